/**
 * Grades lesson 02: `deno test -P notebooks/02-huggingface-peft/` (the lesson itself), or a student's
 * copy: `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/02-huggingface-peft/`.
 */
import { gradeTests } from "../../lib/grade/mod.ts";

gradeTests(new URL("./02-huggingface-peft.ipynb", import.meta.url));
