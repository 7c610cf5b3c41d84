"""`python -m finetune_worker.launch <torchrun arguments>`: torchrun (torch.distributed.run) itself, with one fix.

torch 1.13's torchrun cannot start under Python 3.11 (Debian 12 ships exactly that pair): its `Std.from_str`
finds no member for "0" because Python 3.11 no longer lists a Flag's zero member, so the default `--redirects 0`
becomes None and the launch fails in `to_map`. Where that is broken, the parser is replaced by one that builds
the member from its value; everywhere else torchrun runs untouched.
"""
import re
import sys

from torch.distributed.elastic.multiprocessing import api


def _from_str(cls, vm):
    if re.match(api._VALUE_REGEX, vm):
        return cls(int(vm))
    if re.match(api._MAPPING_REGEX, vm):
        return {int(i): cls(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")


def main(argv):
    if api.Std.from_str("0") is None:
        api.Std.from_str = classmethod(_from_str)
    from torch.distributed.run import main as torchrun

    torchrun(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
