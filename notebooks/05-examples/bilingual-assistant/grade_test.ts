/**
 * Grades lesson 05c: `deno test -P notebooks/05-examples/bilingual-assistant/` (the lesson itself), or a student's copy:
 * `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/05-examples/bilingual-assistant/`.
 */
import { gradeTests } from "../../../lib/grade/mod.ts";

gradeTests(new URL("./05c-bilingual-assistant.ipynb", import.meta.url));
