"""Load registered datasets through LLaMA-Factory's own pipeline (dataset_info.json → converter → template →
tokenization and masking), one at a time, and count the rows each one yields.

Job (JSON on stdin): {"datasetDir": "/abs/dir", "datasets": ["numbers", ...], "stage": "sft"|"dpo"|"rm"|"pt"|"kto",
                      "model": "/abs/model", "template": "chatml", "cutoffLen": 128}
Prints one JSON line: {"rows": {"numbers": 420, ...}}. LLaMA-Factory skips malformed rows with a warning (a sharegpt
row whose roles do not alternate, an odd message count), so a count below the file's line count means rows were
dropped. A dataset LLaMA-Factory cannot load fails the job with its message on the last stderr line.
The datasets library's Arrow cache goes to a temporary folder (HF_DATASETS_CACHE), removed at the end.
"""

import json
import os
import shutil
import sys
import tempfile


def main() -> int:
    out, sys.stdout = sys.stdout, sys.stderr  # LLaMA-Factory logs to stdout
    job = json.load(sys.stdin)
    tmp = tempfile.mkdtemp(prefix="ince-lf-datasets-")
    os.environ["HF_DATASETS_CACHE"] = os.path.join(tmp, "datasets-cache")
    os.environ.setdefault("LLAMAFACTORY_VERBOSITY", "WARN")
    try:
        from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
        from llamafactory.hparams import get_train_args
        from llamafactory.model import load_tokenizer

        stage = job["stage"]
        data_stage = "rm" if stage == "dpo" else stage  # LLaMA-Factory's DPO workflow loads its data as "rm"
        rows = {}
        tokenizer_module = template = None
        for name in job["datasets"]:
            cfg = dict(model_name_or_path=job["model"], stage=stage, do_train=True, finetuning_type="lora",
                       dataset=name, dataset_dir=job["datasetDir"], template=job["template"],
                       cutoff_len=job.get("cutoffLen", 1024), output_dir=os.path.join(tmp, "out"),
                       overwrite_output_dir=True, use_cpu=True, report_to="none")
            model_args, data_args, training_args, _, _ = get_train_args(cfg)
            if tokenizer_module is None:
                tokenizer_module = load_tokenizer(model_args)
                template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
            try:
                module = get_dataset(template, model_args, data_args, training_args, data_stage, **tokenizer_module)
            except Exception as e:
                print(f"LLaMA-Factory cannot load dataset {name!r} from {job['datasetDir']}/dataset_info.json: "
                      + " ".join(str(e).split()),
                      file=sys.stderr)
                return 1
            rows[name] = len(module["train_dataset"])
        print(json.dumps({"rows": rows}), file=out)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
