"""``b4g scan-model``: propose a backdoor's behaviour from the model alone (no trigger, no target).

:mod:`.expansion` forces candidate first tokens after clean prompts and extends them greedily
(target inversion in the manner of BAIT); :mod:`.classes` names the behaviour class of a proposal;
:mod:`.scan` ranks the proposals against the model without its adapters and applies the threshold.
"""
