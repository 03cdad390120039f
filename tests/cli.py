"""The command line run in-process, as the tests of commands call it."""
from iamgate.cli import main


def run(capsys, *argv):
    """``iamgate *argv``: (exit code, standard output, standard error)."""
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err
