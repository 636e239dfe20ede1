"""System tests of running guests (issue 3): they need VMX, so they run under Bochs (and KVM)."""

from systest import Skip, test  # noqa: F401
