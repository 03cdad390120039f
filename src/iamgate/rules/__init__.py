"""Rules: the registry of every check iamgate reports (id, name, severity, documentation), and the
checks that run over a whole inventory once the readers are done."""
