"""Result records: one test's outcome, task totals of a session, and
Gradescope's results.json. Plain data shared by the plugin, the reports and
batch grading."""
