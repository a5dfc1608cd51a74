"""lifetf: statistical checks of published claims about networks stuck in bad minima."""

from lifetf.nets.backends import quiet_logs

quiet_logs()
