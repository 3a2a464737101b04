/**
 * Grades lesson 06: `deno test -P notebooks/06-advanced-techniques/` (the lesson itself), or a student's
 * copy: `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/06-advanced-techniques/`.
 */
import { gradeTests } from "../../lib/grade/mod.ts";

gradeTests(new URL("./06-advanced-techniques.ipynb", import.meta.url));
