"""Coverage-guided fuzzing of every reader (atheris, libFuzzer underneath): see fuzz/run.py."""
