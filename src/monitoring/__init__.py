"""Closing the loop: the ledger of every scored table, the reference each model is judged
against, and the monitor that judges every past score once its horizon closes, watches drift
and gives a verdict a scheduler can act on."""
