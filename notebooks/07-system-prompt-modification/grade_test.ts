/**
 * Grades lesson 07: `deno test -P notebooks/07-system-prompt-modification/` (the lesson itself), or a student's copy:
 * `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/07-system-prompt-modification/`.
 */
import { gradeTests } from "../../lib/grade/mod.ts";

gradeTests(new URL("./07-system-prompt-modification.ipynb", import.meta.url));
