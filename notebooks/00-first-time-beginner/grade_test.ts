/**
 * Grades lesson 00: `deno test -P notebooks/00-first-time-beginner/` (the lesson itself), or a student's
 * copy: `INCE_GRADE_NOTEBOOK=path/to/copy.ipynb deno test -P notebooks/00-first-time-beginner/`.
 */
import { gradeTests } from "../../lib/grade/mod.ts";

gradeTests(new URL("./00-first-fine-tune.ipynb", import.meta.url));
