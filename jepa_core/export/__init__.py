"""Export runs to Hugging Face ``transformers`` and import I-JEPA checkpoints from it.

- :mod:`.ijepa`: an image run's encoder as transformers' own ``IJepaModel`` (and back);
- :mod:`.hf_model`: any run as this package's ``JepaModel`` (model_type ``jepa``);
- :mod:`.processor`: ``JepaProcessor``, raw inputs to that model's inputs;
- :mod:`.hf_import`: ``model.init_hf`` / ``target.frozen_hf``, an I-JEPA checkpoint
  directory as the encoder's initialization or a frozen teacher;
- :mod:`.command`: ``jepa export RUN --format hf --out DIR``.

Importing this package loads neither torch nor transformers; :mod:`.autoregister`
registers ``JepaConfig``/``JepaModel`` with transformers' Auto classes when (and only
when) transformers loads them.
"""

from __future__ import annotations
