/**
 * Grades lesson 05a (structured output): `deno test -P notebooks/05-examples/structured-output/` (the lesson itself), or a student's copy:
 * `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/05-examples/structured-output/`.
 */
import { gradeTests } from "../../../lib/grade/mod.ts";

gradeTests(new URL("./05a-structured-output.ipynb", import.meta.url));
