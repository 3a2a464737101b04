/**
 * Grades lesson 08: `deno test -P notebooks/08-llamafactory/` (the lesson itself), or a student's copy:
 * `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/08-llamafactory/`.
 */
import { gradeTests } from "../../lib/grade/mod.ts";

gradeTests(new URL("./08-llamafactory.ipynb", import.meta.url));
