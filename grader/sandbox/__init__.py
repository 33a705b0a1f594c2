"""The sandbox: confinement of the student's process, the fork server that
starts it, its worker side, the pipes and the data-only wire between the two,
and traced training loops. Imports nothing of the plugin, batch or reports."""
