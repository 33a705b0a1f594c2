"""Batch grading (``grader grade``): intake of submissions, the trusted
workers, the journal, the gradebook and Dask."""
