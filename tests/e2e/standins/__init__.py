"""Shared code of the stand-in actions (tests/e2e/actions) and executables
(tests/e2e/bin). Standard library only: the stand-ins run with whatever
python3 the job's PATH finds, like a JavaScript action runs with the
runner's node."""
