"""Writes the code-assistant datasets of lesson 05b under data/datasets/ (deterministic; run from the repo root
with the course's Python: `.tools/venv/bin/python data/scripts/make_code_tasks.py`).

  code-tasks.json     the task table (a JSON array, not a training file), one entry per task: function name,
                      signature, description, reference solution (a one-line TypeScript function), hidden
                      unit tests (`if (!(…)) throw …` lines), a plausible wrong solution the tests must
                      reject, the split ("train" or "heldout") and the solution's length in tokens
  code-train.jsonl    alpaca rows {instruction, output}: the TRAIN tasks, each in the 5 training phrasings
  code-heldout.jsonl  alpaca rows for evaluation, `kind` says which question each row asks:
                        "seen"        a train task in a training phrasing (the row is also in code-train.jsonl:
                                      what memorisation alone reaches)
                        "paraphrase"  a train task in one of 2 phrasings never trained on
                        "unseen"      a held-out task (never in training, in any phrasing), 2 phrasings

Every row carries `task` (the task's name) and `tokens`: the length of the whole chat (prompt + answer, with
the built-in model's chat template) in the built-in model's tokens — the model has a 256-token context.
The script checks that every reference solution's tests are well formed; tests/code_tasks_test.ts runs them
in the sandbox.
"""

import json
import os

from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "data", "datasets")
MODEL = os.path.join(ROOT, "data", "models", "ince-tiny")
MAX_TOKENS = 200  # the chat, prompt + answer; the model's context is 256

# name, parameters, return type, description (third person, "returns …"), body expression,
# tests as (call, expected literal) pairs, a wrong body, split.
# Arrays are compared through JSON.stringify. Held-out tasks are each a near relative of a train task
# (min ↔ max, last ↔ first, …): the best chance a tiny model has to generalise.
N, S, B, A = "number", "string", "boolean", "number[]"
TASKS = [
    # numbers
    ("double", [("n", N)], N, "returns n times two", "n * 2",
     [("double(3)", "6"), ("double(0)", "0"), ("double(-4)", "-8")], "n + 2", "train"),
    ("square", [("n", N)], N, "returns n multiplied by itself", "n * n",
     [("square(3)", "9"), ("square(-2)", "4"), ("square(0)", "0")], "n * 2", "train"),
    ("cube", [("n", N)], N, "returns n to the power of three", "n * n * n",
     [("cube(2)", "8"), ("cube(-3)", "-27"), ("cube(1)", "1")], "n * n", "heldout"),
    ("add", [("a", N), ("b", N)], N, "returns the sum of a and b", "a + b",
     [("add(2, 3)", "5"), ("add(-1, 1)", "0"), ("add(10, 5)", "15")], "a - b", "train"),
    ("average", [("a", N), ("b", N)], N, "returns the mean of a and b", "(a + b) / 2",
     [("average(2, 4)", "3"), ("average(1, 2)", "1.5"), ("average(-2, 2)", "0")], "a + b / 2", "heldout"),
    ("maxOfTwo", [("a", N), ("b", N)], N, "returns the larger of a and b", "Math.max(a, b)",
     [("maxOfTwo(2, 7)", "7"), ("maxOfTwo(9, 1)", "9"), ("maxOfTwo(-3, -5)", "-3")], "Math.min(a, b)", "train"),
    ("absolute", [("n", N)], N, "returns the absolute value of n", "Math.abs(n)",
     [("absolute(-5)", "5"), ("absolute(3)", "3"), ("absolute(0)", "0")], "-n", "train"),
    ("isEven", [("n", N)], B, "returns true when n is even", "n % 2 === 0",
     [("isEven(4)", "true"), ("isEven(7)", "false"), ("isEven(0)", "true")], "n % 2 === 1", "train"),
    ("isDivisibleByThree", [("n", N)], B, "returns true when n is divisible by three", "n % 3 === 0",
     [("isDivisibleByThree(9)", "true"), ("isDivisibleByThree(10)", "false"), ("isDivisibleByThree(0)", "true")],
     "n % 2 === 0", "heldout"),
    ("isPositive", [("n", N)], B, "returns true when n is greater than zero", "n > 0",
     [("isPositive(3)", "true"), ("isPositive(-2)", "false"), ("isPositive(0)", "false")], "n >= 0", "train"),
    ("lastDigit", [("n", N)], N, "returns the last digit of n", "n % 10",
     [("lastDigit(123)", "3"), ("lastDigit(7)", "7"), ("lastDigit(40)", "0")], "n % 100", "train"),
    ("countDigits", [("n", N)], N, "returns how many digits n has", "String(n).length",
     [("countDigits(123)", "3"), ("countDigits(5)", "1"), ("countDigits(1000)", "4")], "String(n).length - 1",
     "train"),
    ("sumDigits", [("n", N)], N, "returns the sum of the digits of n",
     "String(n).split(\"\").reduce((s, d) => s + Number(d), 0)",
     [("sumDigits(123)", "6"), ("sumDigits(9)", "9"), ("sumDigits(505)", "10")], "String(n).length", "train"),
    # strings
    ("toUpper", [("s", S)], S, "returns s in capital letters", "s.toUpperCase()",
     [("toUpper(\"abc\")", "\"ABC\""), ("toUpper(\"Hi\")", "\"HI\""), ("toUpper(\"\")", "\"\"")],
     "s.toLowerCase()", "train"),
    ("toLower", [("s", S)], S, "returns s in small letters", "s.toLowerCase()",
     [("toLower(\"ABC\")", "\"abc\""), ("toLower(\"Hi\")", "\"hi\""), ("toLower(\"\")", "\"\"")],
     "s.toUpperCase()", "heldout"),
    ("stringLength", [("s", S)], N, "returns the number of characters in s", "s.length",
     [("stringLength(\"abc\")", "3"), ("stringLength(\"\")", "0"), ("stringLength(\"a b\")", "3")],
     "s.split(\" \").length", "train"),
    ("firstChar", [("s", S)], S, "returns the first character of s", "s[0]",
     [("firstChar(\"abc\")", "\"a\""), ("firstChar(\"z\")", "\"z\""), ("firstChar(\"hello\")", "\"h\"")],
     "s[1]", "train"),
    ("lastChar", [("s", S)], S, "returns the last character of s", "s[s.length - 1]",
     [("lastChar(\"abc\")", "\"c\""), ("lastChar(\"z\")", "\"z\""), ("lastChar(\"hello\")", "\"o\"")],
     "s[0]", "heldout"),
    ("repeatTwice", [("s", S)], S, "returns s written twice", "s + s",
     [("repeatTwice(\"ab\")", "\"abab\""), ("repeatTwice(\"\")", "\"\""), ("repeatTwice(\"x\")", "\"xx\"")],
     "s + \" \" + s", "train"),
    ("reverseString", [("s", S)], S, "returns s backwards", "s.split(\"\").reverse().join(\"\")",
     [("reverseString(\"abc\")", "\"cba\""), ("reverseString(\"\")", "\"\""), ("reverseString(\"ab c\")", "\"c ba\"")],
     "s", "train"),
    ("reverseWords", [("s", S)], S, "returns the words of s in reverse order",
     "s.split(\" \").reverse().join(\" \")",
     [("reverseWords(\"a b c\")", "\"c b a\""), ("reverseWords(\"hi\")", "\"hi\""),
      ("reverseWords(\"one two\")", "\"two one\"")],
     "s.split(\"\").reverse().join(\"\")", "heldout"),
    ("countWords", [("s", S)], N, "returns the number of words in s", "s.split(\" \").length",
     [("countWords(\"a b c\")", "3"), ("countWords(\"hello\")", "1"), ("countWords(\"one two\")", "2")],
     "s.length", "train"),
    ("removeSpaces", [("s", S)], S, "returns s without its spaces", "s.split(\" \").join(\"\")",
     [("removeSpaces(\"a b c\")", "\"abc\""), ("removeSpaces(\"hi\")", "\"hi\""), ("removeSpaces(\" x \")", "\"x\"")],
     "s.replace(\" \", \"\")", "train"),
    ("countVowels", [("s", S)], N, "returns how many vowels (a, e, i, o, u) s has",
     "s.split(\"\").filter((c) => \"aeiou\".includes(c)).length",
     [("countVowels(\"hello\")", "2"), ("countVowels(\"xyz\")", "0"), ("countVowels(\"aeiou\")", "5")],
     "s.length", "train"),
    ("isPalindrome", [("s", S)], B, "returns true when s reads the same backwards",
     "s === s.split(\"\").reverse().join(\"\")",
     [("isPalindrome(\"abba\")", "true"), ("isPalindrome(\"abc\")", "false"), ("isPalindrome(\"abca\")", "false"),
      ("isPalindrome(\"a\")", "true")],
     "s[0] === s[s.length - 1]", "heldout"),
    # arrays
    ("maxOfArray", [("xs", A)], N, "returns the largest number in xs", "Math.max(...xs)",
     [("maxOfArray([1, 5, 3])", "5"), ("maxOfArray([-2, -7])", "-2"), ("maxOfArray([4])", "4")], "xs[0]", "train"),
    ("minOfArray", [("xs", A)], N, "returns the smallest number in xs", "Math.min(...xs)",
     [("minOfArray([4, 1, 3])", "1"), ("minOfArray([-2, -7])", "-7"), ("minOfArray([4])", "4")], "xs[0]",
     "heldout"),
    ("sumArray", [("xs", A)], N, "returns the sum of the numbers in xs", "xs.reduce((s, x) => s + x, 0)",
     [("sumArray([1, 2, 3])", "6"), ("sumArray([])", "0"), ("sumArray([-1, 1])", "0")], "xs.length", "train"),
    ("productArray", [("xs", A)], N, "returns the product of the numbers in xs", "xs.reduce((p, x) => p * x, 1)",
     [("productArray([2, 3, 4])", "24"), ("productArray([])", "1"), ("productArray([5])", "5")],
     "xs.reduce((p, x) => p + x, 0)", "heldout"),
    ("firstElement", [("xs", A)], N, "returns the first number in xs", "xs[0]",
     [("firstElement([7, 8])", "7"), ("firstElement([1])", "1"), ("firstElement([3, 2, 1])", "3")],
     "xs[1]", "train"),
    ("lastElement", [("xs", A)], N, "returns the last number in xs", "xs[xs.length - 1]",
     [("lastElement([7, 8])", "8"), ("lastElement([1])", "1"), ("lastElement([3, 2, 1])", "1")],
     "xs[0]", "heldout"),
    ("countEvens", [("xs", A)], N, "returns how many numbers in xs are even", "xs.filter((x) => x % 2 === 0).length",
     [("countEvens([1, 2, 4])", "2"), ("countEvens([])", "0"), ("countEvens([3, 5])", "0")], "xs.length", "train"),
    ("countPositives", [("xs", A)], N, "returns how many numbers in xs are greater than zero",
     "xs.filter((x) => x > 0).length",
     [("countPositives([1, -2, 4])", "2"), ("countPositives([])", "0"), ("countPositives([0, -1])", "0")],
     "xs.length", "heldout"),
    ("doubleAll", [("xs", A)], A, "returns xs with every number doubled", "xs.map((x) => x * 2)",
     [("doubleAll([1, 2])", "[2,4]"), ("doubleAll([])", "[]"), ("doubleAll([-3])", "[-6]")], "xs", "train"),
    ("squareAll", [("xs", A)], A, "returns xs with every number squared", "xs.map((x) => x * x)",
     [("squareAll([1, 2, 3])", "[1,4,9]"), ("squareAll([])", "[]"), ("squareAll([-3])", "[9]")],
     "xs.map((x) => x * 2)", "heldout"),
    ("onlyPositive", [("xs", A)], A, "returns the numbers in xs that are greater than zero",
     "xs.filter((x) => x > 0)",
     [("onlyPositive([1, -2, 3])", "[1,3]"), ("onlyPositive([])", "[]"), ("onlyPositive([0, -1])", "[]")],
     "xs.filter((x) => x >= 0)", "train"),
    ("reverseArray", [("xs", A)], A, "returns the numbers of xs in reverse order", "[...xs].reverse()",
     [("reverseArray([1, 2, 3])", "[3,2,1]"), ("reverseArray([])", "[]"), ("reverseArray([5])", "[5]")],
     "xs", "train"),
]

# {sig}: `name(a: T): R`, {desc}: "returns …"
TRAIN_PHRASINGS = [
    "Write a TypeScript function {sig} that {desc}.",
    "Implement {sig} in TypeScript. It {desc}.",
    "TypeScript: {sig} {desc}.",
    "Create the function {sig}, which {desc}.",
    "Please write {sig}: it {desc}.",
]
HELDOUT_PHRASINGS = [
    "I need {sig} in TypeScript; the function {desc}.",
    "Code a TypeScript function named {sig} that {desc}.",
]


def signature(name, params, ret):
    return f"{name}({', '.join(f'{p}: {t}' for p, t in params)}): {ret}"


def function(name, params, ret, body):
    return f"function {signature(name, params, ret)} {{ return {body}; }}"


def test_lines(ret, tests):
    lines = []
    for call, expected in tests:
        if ret == A:
            cond = f"JSON.stringify({call}) === \"{expected}\""
        else:
            cond = f"{call} === {expected}"
        message = json.dumps(f"{call} should be {expected}")
        lines.append(f"if (!({cond})) throw new Error({message});")
    return "\n".join(lines)


def main():
    tokenizer = AutoTokenizer.from_pretrained(MODEL)

    def tokens(prompt, answer):
        chat = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
        return len(tokenizer.apply_chat_template(chat, tokenize=True, return_dict=True)["input_ids"])

    names = [t[0] for t in TASKS]
    assert len(set(names)) == len(names), "duplicate task names"
    table, train, heldout = [], [], []
    for name, params, ret, desc, body, tests, wrong, split in TASKS:
        sig = signature(name, params, ret)
        solution = function(name, params, ret, body)
        table.append({
            "task": name, "signature": sig, "description": desc, "solution": solution,
            "tests": test_lines(ret, tests), "wrong": function(name, params, ret, wrong), "split": split,
            "solutionTokens": len(tokenizer(solution)["input_ids"]),
        })

        def row(kind, i, template, rows):
            prompt = template.format(sig=sig, desc=desc)
            n = tokens(prompt, solution)
            assert n <= MAX_TOKENS, f"{name}: {n} tokens"
            rows.append({"id": f"code-{name}-{kind}-{i}", "task": name, "kind": kind, "instruction": prompt,
                         "output": solution, "tokens": n})

        if split == "train":
            for i, t in enumerate(TRAIN_PHRASINGS):
                row("train", i, t, train)
            row("seen", 0, TRAIN_PHRASINGS[0], heldout)
            for i, t in enumerate(HELDOUT_PHRASINGS):
                row("paraphrase", i, t, heldout)
        else:
            for i, t in enumerate(HELDOUT_PHRASINGS):
                row("unseen", i, t, heldout)

    # held-out tasks never reach the training file, by name or by solution
    train_text = "\n".join(json.dumps(r) for r in train)
    for t in table:
        if t["split"] == "heldout":
            assert t["task"] not in train_text and t["solution"] not in train_text, t["task"]

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "code-tasks.json"), "w", encoding="utf-8") as f:
        json.dump(table, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"code-tasks.json: {len(table)} tasks ({sum(t['split'] == 'heldout' for t in table)} held out)")
    for file, rows in [("code-train.jsonl", train), ("code-heldout.jsonl", heldout)]:
        with open(os.path.join(OUT, file), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        lengths = [r["tokens"] for r in rows if "tokens" in r]
        extra = f", tokens {min(lengths)}–{max(lengths)}" if lengths else ""
        print(f"{file}: {len(rows)} rows{extra}")


if __name__ == "__main__":
    main()
