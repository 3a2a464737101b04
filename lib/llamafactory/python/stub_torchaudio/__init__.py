"""Stand-in for torchaudio in ince's LLaMA-Factory environment.

LLaMA-Factory 0.9.5 imports torchaudio at the top of llamafactory/data/mm_plugin.py, but only calls it for
audio inputs. PyPI's newest torchaudio (2.11.0, CUDA 13.0) refuses to import next to torch 2.15.0 (CUDA 13.2):
"Detected that PyTorch and TorchAudio were compiled with different CUDA versions". ince trains on text only,
so this module satisfies the import and fails loudly if audio is ever used.
"""

__version__ = "0.0.0+ince.stub"


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise ImportError(
        f"torchaudio.{name} is not available in ince's LLaMA-Factory environment (a text-only stub stands in for "
        "torchaudio, whose PyPI build does not match this torch's CUDA). Audio datasets are not supported here."
    )
