/**
 * Grades lesson 03: `deno test -P notebooks/03-ollama/` (the lesson itself), or a student's copy:
 * `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/03-ollama/`.
 */
import { gradeTests } from "../../lib/grade/mod.ts";

gradeTests(new URL("./03-ollama.ipynb", import.meta.url));
