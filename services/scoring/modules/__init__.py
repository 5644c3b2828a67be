"""The shipped X-modules (one YAML file each) and `python -m services.scoring.modules check FILE`,
which validates a module file and prints it as a holder would read it (see docs/modules.md)."""
