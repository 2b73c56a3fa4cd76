"""Training methods beside the masked one (:mod:`jepa_core.method`): the world model and
the pooled (sample-level) target."""
