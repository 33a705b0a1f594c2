"""A catalogue of student-style backward functions for the gradient checker:
deliberately wrong ones (each naming the mistake the checker must report) and
correct ones written differently (which must pass). ``python -m grader demo``
checks them all; tests/ asserts every verdict."""
