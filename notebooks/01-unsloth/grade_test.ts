/**
 * Grades lesson 01: `deno test -P notebooks/01-unsloth/` (the lesson itself), or a student's copy:
 * `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/01-unsloth/`.
 */
import { gradeTests } from "../../lib/grade/mod.ts";

gradeTests(new URL("./01-unsloth.ipynb", import.meta.url));
