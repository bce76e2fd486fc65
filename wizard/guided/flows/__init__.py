"""The guided flows by name."""
from wizard.guided.flows.rcs import RCS
from wizard.guided.flows.sms import SMS

FLOWS = {flow.name: flow for flow in (SMS, RCS)}
