"""``cmelive fix``: one coherent config change per device, proven by re-auditing the config it makes.

- :mod:`cmelive.fixplan.plan` builds the plan from the checks' remediation lines and the parsed
  running-config (shared objects, safe order, placeholders, manual steps) and its rollback;
- :mod:`cmelive.fixplan.iosconfig` is the model of IOS config mode that applies it (the future
  config) and computes the rollback;
- :mod:`cmelive.fixplan.verify` re-audits the future config and tells whether the plan holds;
- :mod:`cmelive.fixplan.run` runs all that for a snapshot, a live router or a fleet run directory.
"""
