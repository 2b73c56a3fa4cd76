"""Planning with a trained world model: CEM / MPPI in latent space, MPC, env adapters.

Submodules: :mod:`.envs` (env specs and the goal-conditioned convention),
:mod:`.planners` (CEM, MPPI), :mod:`.mpc` (the receding-horizon loop),
:mod:`.evaluate` (what ``jepa plan`` runs), :mod:`.cli` (``jepa plan``, torch-free at
import). Nothing is imported here, so ``jepa --help`` stays light.
"""
