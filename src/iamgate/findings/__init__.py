"""Decisions -> what the user is told: requirements decided into findings (``check``), one request
with its trace (``simulate``), an AccessDenied message judged against the code (``explain``), two
revisions compared (``diff``), and the words for causes (``diagnose``). Each takes a Scope; none
reads files."""
