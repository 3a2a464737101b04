/**
 * Grades lesson 05b: `deno test -P notebooks/05-examples/code-assistant/` (the lesson itself), or a student's copy:
 * `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/05-examples/code-assistant/`.
 */
import { gradeTests } from "../../../lib/grade/mod.ts";

gradeTests(new URL("./05b-code-assistant.ipynb", import.meta.url));
