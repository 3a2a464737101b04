/**
 * Grades lesson 04: `deno test -P notebooks/04-quantization/` (the lesson itself), or a student's copy:
 * `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/04-quantization/`.
 */
import { gradeTests } from "../../lib/grade/mod.ts";

gradeTests(new URL("./04-quantization.ipynb", import.meta.url));
