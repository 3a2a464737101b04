"""Dry run of a LLaMA-Factory training config through LLaMA-Factory's own reader and argument parser: no model is
loaded, nothing is trained, and the config's output_dir is never touched (the parser runs against a fresh
temporary one, so it can neither resume from nor refuse the real folder; a refusal there is reported).

Job (JSON on stdin): {"sources": [{"config": {...}} | {"yamlFile": "/abs/train.yaml"}, ...]} — several configs share one
process (LLaMA-Factory's imports take most of the time).
Prints one JSON line: {"results": [{"ok": bool, "problems": [{"key": str|null, "message": str, "line"?: int}],
"resolved": {...}}, ...]}, one result per source, in order.
Every problem is collected (not only the first), in this order:
 1. YAML: duplicate keys (LLaMA-Factory reads YAML with OmegaConf, which refuses them), each with its line.
 2. Unknown keys: keys no field of LLaMA-Factory's argument dataclasses takes (the rule of HfArgumentParser.parse_dict,
    which `llamafactory-cli train` runs with allow_extra_keys=False), each with the closest known key.
 3. Value types against the dataclasses' hints (parse_dict does not check them: `lora_rank: eight` would pass).
 4. LLaMA-Factory's get_train_args on the remaining keys: its __post_init__ and cross-field rules (first failure only,
    that is how LLaMA-Factory raises them); the key is taken from the `backticked` name in its message.
 5. What LLaMA-Factory checks only at load time: the model is a local folder with config.json or in the Hugging Face
    cache; every dataset is registered in dataset_dir/dataset_info.json and its file exists; preference stages get
    ranking datasets; the template exists.
 6. The real output_dir: LLaMA-Factory refuses a non-empty one without a checkpoint unless overwrite_output_dir.
LLaMA-Factory logs to stdout, so stdout is rebound to stderr before it is imported; the JSON goes to the real stdout.
"""

import dataclasses
import difflib
import json
import os
import re
import shutil
import sys
import tempfile


def main() -> int:
    out, sys.stdout = sys.stdout, sys.stderr
    os.environ.setdefault("LLAMAFACTORY_VERBOSITY", "WARN")
    job = json.load(sys.stdin)
    results = [validate(source) for source in job["sources"]]
    print(json.dumps({"results": results}, default=str), file=out)
    return 0


def validate(source: dict) -> dict:
    problems: list[dict] = []
    lines: dict[str, int] = {}
    if "yamlFile" in source:
        cfg, lines, problems = read_yaml(source["yamlFile"])
    else:
        cfg = source["config"]
    if cfg is None:
        return {"ok": False, "problems": problems, "resolved": {}}

    from llamafactory.hparams.parser import _TRAIN_ARGS

    fields = {f.name: f for dc in _TRAIN_ARGS for f in dataclasses.fields(dc) if f.init}
    rest = dict(cfg)
    for key in sorted(set(cfg) - set(fields)):
        near = closest_key(key, fields)
        hint = f" — did you mean {near}?" if near else " (LLaMA-Factory's parser refuses keys it does not know)"
        problems.append({"key": key, "message": f"unknown key{hint}"})
        del rest[key]
    for key, message in type_errors(rest, _TRAIN_ARGS):
        problems.append({"key": key, "message": message})
        del rest[key]

    resolved = lf_rules(rest, fields, problems)
    load_time_checks(rest, fields, problems)
    output_dir_check(cfg, problems)
    for p in problems:
        if p["key"] in lines and "line" not in p:
            p["line"] = lines[p["key"]]
    return {"ok": not problems, "problems": problems, "resolved": resolved}


def read_yaml(path: str) -> tuple[dict | None, dict[str, int], list[dict]]:
    """The top-level mapping as OmegaConf's loader builds it (later duplicates win), the 1-based line of each key,
    and one problem per duplicate key."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf._yaml import get_yaml_loader

    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        return None, {}, [{"key": None, "message": f"cannot read {path}: {e.strerror}"}]
    loader = get_yaml_loader()(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return None, {}, [{"key": None, "message": f"not valid YAML: {e}", **({"line": mark.line + 1} if mark else {})}]
    finally:
        loader.dispose()
    if not isinstance(node, yaml.MappingNode):
        return None, {}, [{"key": None, "message": "the file must be a YAML mapping of key: value lines"}]
    problems, first, keep = [], {}, {}
    for key_node, _ in node.value:
        k = key_node.value
        if k in first:
            problems.append({"key": k, "line": key_node.start_mark.line + 1,
                             "message": f"duplicate key (first on line {first[k]}); LLaMA-Factory's YAML reader "
                                        "(OmegaConf) refuses the whole file — keep one"})
        else:
            first[k] = key_node.start_mark.line + 1
        keep[k] = (key_node, _)
    node.value = list(keep.values())
    loader = get_yaml_loader()("")
    try:
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    return OmegaConf.to_container(OmegaConf.create(data)), first, problems


# What other trainers (TRL, axolotl, ince's own run config) call LLaMA-Factory's keys.
_ALIASES = {
    "batch_size": "per_device_train_batch_size", "micro_batch_size": "per_device_train_batch_size",
    "num_epochs": "num_train_epochs", "epochs": "num_train_epochs", "steps": "max_steps", "lr": "learning_rate",
    "r": "lora_rank", "lora_r": "lora_rank", "alpha": "lora_alpha", "target_modules": "lora_target",
    "lora_target_modules": "lora_target", "max_seq_length": "cutoff_len", "max_length": "cutoff_len",
    "sequence_len": "cutoff_len", "model": "model_name_or_path", "base_model": "model_name_or_path",
    "gradient_accumulation": "gradient_accumulation_steps", "use_pissa": "pissa_init", "dora": "use_dora",
    "beta": "pref_beta", "dpo_beta": "pref_beta", "load_in_4bit": "quantization_bit",
}


def closest_key(key: str, fields: dict) -> str | None:
    """The known key meant: a common alias, else a known key starting with it (`lora_` → …), else difflib's."""
    if _ALIASES.get(key) in fields:
        return _ALIASES[key]
    starting = sorted((f for f in fields if f.startswith(key)), key=len)
    near = starting or difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    return near[0] if near else None


def type_errors(cfg: dict, classes) -> list[tuple[str, str]]:
    import enum
    import types
    import typing

    hints = {}
    for dc in classes:
        hints.update(typing.get_type_hints(dc))

    def ok(v, t) -> bool:
        origin, args = typing.get_origin(t), typing.get_args(t)
        if t is typing.Any:
            return True
        if origin in (typing.Union, types.UnionType):
            return any(ok(v, a) for a in args)
        if origin is typing.Literal:
            return v in args
        if t is type(None):
            return v is None
        if isinstance(t, type) and issubclass(t, enum.Enum):
            return v in [m.value for m in t] or isinstance(v, t)
        if t is bool:
            return isinstance(v, bool)
        if t is int:
            return isinstance(v, int) and not isinstance(v, bool)
        if t is float:
            return isinstance(v, (int, float)) and not isinstance(v, bool)
        if t is str:
            return isinstance(v, str)
        return True  # lists, dicts, nested types: left to LLaMA-Factory

    def show(t) -> str:
        return re.sub(r"\btyping\.|<class '(\w+)'>", lambda m: m.group(1) or "", str(t))

    return [(k, f"should be {show(hints[k])}, got {v!r}") for k, v in cfg.items()
            if k in hints and not ok(v, hints[k])]


def lf_rules(cfg: dict, fields: dict, problems: list[dict]) -> dict:
    """LLaMA-Factory's get_train_args on a copy whose output_dir is a fresh temporary folder."""
    from llamafactory.hparams.parser import get_train_args

    tmp = tempfile.mkdtemp(prefix="ince-lf-validate-")
    try:
        model_args, data_args, training_args, finetuning_args, _ = get_train_args({**cfg, "output_dir": tmp})
    except Exception as e:  # ValueError mostly; TypeError for a value a dataclass cannot take
        text = str(e).strip()
        # The key: the first `backticked` name, else the first known key named as a word ("doesn't support bf16").
        keys = re.findall(r"`([a-z_0-9]+)`", text) or [w for w in re.findall(r"[a-z_0-9]+", text) if w in fields]
        problems.append({"key": keys[0] if keys else None, "message": f"LLaMA-Factory: {text}"})
        return {}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"stage": finetuning_args.stage, "finetuning_type": finetuning_args.finetuning_type,
            "lora_target": finetuning_args.lora_target, "template": data_args.template,
            "max_steps": training_args.max_steps, "learning_rate": training_args.learning_rate,
            "seed": training_args.seed, "gradient_checkpointing": not model_args.disable_gradient_checkpointing}


def load_time_checks(cfg: dict, fields: dict, problems: list[dict]) -> None:
    model = cfg.get("model_name_or_path")
    if isinstance(model, str) and model:
        if not os.path.isdir(model):
            from huggingface_hub import try_to_load_from_cache

            try:
                cached = isinstance(try_to_load_from_cache(model, "config.json"), str)
            except Exception:  # not a valid repo id either
                cached = False
            if not cached:
                problems.append({"key": "model_name_or_path",
                                 "message": f"{model!r} is neither a local model folder nor a model in the Hugging Face "
                                            "cache; download it first or give the folder's absolute path"})
        elif not os.path.isfile(os.path.join(model, "config.json")):
            problems.append({"key": "model_name_or_path", "message": f"{model} has no config.json: not a model folder"})

    from llamafactory.data.parser import get_dataset_list

    dataset_dir = cfg.get("dataset_dir", fields["dataset_dir"].default)
    stage = cfg.get("stage", fields["stage"].default)
    for key in ("dataset", "eval_dataset"):
        names = cfg.get(key)
        if not names:
            continue
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        try:
            attrs = get_dataset_list(names, dataset_dir)
        except Exception as e:  # "Undefined dataset x in dataset_info.json.", or no dataset_info.json at all
            problems.append({"key": key, "message": f"LLaMA-Factory: {e} (dataset_dir: {os.path.abspath(dataset_dir)})"})
            continue
        for attr in attrs:
            if attr.load_from == "file":
                path = os.path.join(dataset_dir, attr.dataset_name)
                if not os.path.exists(path):
                    problems.append({"key": key, "message": f"dataset {attr}: its file {os.path.abspath(path)} does not exist"})
            if stage in ("rm", "dpo") and not attr.ranking:
                problems.append({"key": key, "message": f"dataset {attr} is not a preference dataset (ranking: true) "
                                                        f"but stage is {stage}"})
    template = cfg.get("template")
    if template is not None:
        from llamafactory.data.template import TEMPLATES

        if template not in TEMPLATES:
            near = difflib.get_close_matches(str(template), list(TEMPLATES), n=1)
            problems.append({"key": "template", "message": f"LLaMA-Factory has no template {template!r}"
                             + (f" — did you mean {near[0]}?" if near else "")})


def output_dir_check(cfg: dict, problems: list[dict]) -> None:
    """LLaMA-Factory's own rule (hparams/parser.py) for the real output_dir, without running it there."""
    from llamafactory.extras.constants import CHECKPOINT_NAMES
    from transformers.trainer_utils import get_last_checkpoint

    out_dir = cfg.get("output_dir")
    if not isinstance(out_dir, str) or not os.path.isdir(out_dir) or cfg.get("overwrite_output_dir"):
        return
    if cfg.get("resume_from_checkpoint") is None and get_last_checkpoint(out_dir) is None and any(
        os.path.isfile(os.path.join(out_dir, name)) for name in CHECKPOINT_NAMES
    ):
        problems.append({"key": "output_dir", "message": f"{out_dir} already holds a trained model; LLaMA-Factory "
                                                         "refuses it — set overwrite_output_dir: true or pick a new folder"})


if __name__ == "__main__":
    sys.exit(main())
