"""The local cloud: a local AWS endpoint on 127.0.0.1 for rehearsing deploys with no AWS account.

It is moto's server (the real CloudFormation, IAM, Lambda and Logs APIs, reached by boto3 through its
real HTTP path) plus **ProxylityStandIn, a stand-in for Proxylity's control plane**: Proxylity is a
third-party service that cannot run here, so this small class answers Create, Update and Delete of the
two Proxylity custom resource types (Custom::ProxylityUdpGatewayListener with the attributes Domain,
Port, DestinationNames and Id; Custom::ProxylityUdpGatewayDestinationArn), keeps the destination
bindings, and serves the `ProxylityConfig` include document (ServiceToken, ServiceRole, Account.ApiKey)
for any account and region. It can wait before answering (so stacks spend real time in progress),
hold chosen requests until a test releases them (`ProxylityStandIn.gate`), fail every request in one
region (to rehearse failures), and treat one region as not subscribed (no include document there, so
CloudFormation fails the change set: "Transform AWS::Include failed").

Every listener the stand-in creates is served (listener_endpoints, deployed_source): a real UDP endpoint on
127.0.0.1 and ::1, bound before the Port is returned and stopped when the listener is deleted, reset or the
cloud stops; it is the local gateway of `make local` (generator/local/gateway, one data plane), fed from what is
deployed at every batch: the listener's Batching and Formatter now, the destination's ARNs by ingress region key
(the ingress region's own, else `*`, else the nearest; a function missing from Lambda is a region in failure),
and each function as the local cloud's Lambda holds it in its own account and region (lambda_functions), run with
that region's AWS_REGION. Packets enter at `LocalCloud.ingress` (`--ingress`, changed while it runs), else the
listener's home region. What the functions print goes to CloudWatch Logs with Lambda's START/END/REPORT lines
(lambda_logs); EventBridge rate schedules run, at `--clock-speed` (schedules). The listeners' names
(lst....proxylity.com) are listed in a hosts file in the user's private runtime directory (names_file;
generator.traffic.local_names reads it).

How the stand-in routes (an assumption on the safe side, as Proxylity's docs do not say): it keeps one
function ARN per destination and ingress region key. The listener's DestinationArn map writes entries
and a DestinationArn resource (a "binding") writes one; removing a binding removes its entry, and an
update of the listener removes the entries its previous map wrote and the new one no longer has (an
unchanged empty map removes nothing, so bindings survive a global update).

moto 5.2 has gaps that real CloudFormation does not. They are closed here, inside this process only,
by patching moto at the narrowest points found in moto/cloudformation/; the deploy code in generator/
knows nothing of them:

- AWS::Include with an Fn::Sub Location raises in moto -> ResourceMap.transform_mapping/load_mapping
  resolve the location and take the stand-in's document (also when a change set is applied).
- Custom:: resources need a Docker Lambda in moto -> resource_class_from_type maps the two Proxylity
  types to ProxylityResource, which calls the stand-in for Create, Update and Delete.
- no resource events -> parse_and_create_resource / parse_and_update_resource emit them.
- execute_change_set runs synchronously, does not rebuild Outputs, simulates no failure -> it runs in a
  background thread (status *_IN_PROGRESS meanwhile), rebuilds Outputs, and rolls back on a failure
  (ROLLBACK_COMPLETE after a failed create, UPDATE_ROLLBACK_COMPLETE after a failed update; a failed
  update does not restore resources it already changed: good enough to rehearse, not a simulator).
- executing a change set leaves the stack's other change sets, and a missing change set is "Stack with id
  ... does not exist" -> they are deleted when one is executed, and describing, executing or deleting a
  missing one is ChangeSetNotFound (executing one no longer AVAILABLE: InvalidChangeSetStatus), as
  CloudFormation answers.
- ExecuteChangeSet ignores ClientRequestToken -> a retry carrying the token of the request that executed the
  change set is answered as done, as CloudFormation does (botocore retries a call whose answer was lost).
- delete_stack is synchronous -> it runs in a background thread too (DELETE_IN_PROGRESS meanwhile).
- change sets are ready at once and never fail a transform -> `LocalCloud.aws.change_sets` (a Gate) can
  keep them CREATE_IN_PROGRESS until released, as real CloudFormation does for seconds; a change set
  whose AWS::Include names an unsubscribed region's document ends FAILED, as a failed transform does.
- ListChangeSets lists every change set of the region -> only the named stack's, as CloudFormation does.
- a CREATE change set for a stack already under review makes a second stack of the same name -> it is
  added to that stack, as CloudFormation does (and refused when the stack exists in any other status).
- an update whose template drops a parameter (bind -> map routing drops DestinationId) raises KeyError
  in moto's load_parameters, which keeps the old values -> the parameters the new template no longer
  declares are forgotten first.
- S3 holds no Proxylity bucket -> GetObject of s3://proxylity-config-REGION/ACCOUNT/customer-config.json is
  answered with the stand-in's document of that account, to that account alone (AccessDenied for another,
  NoSuchKey in the unsubscribed region), as the StackSets path reads it through each account's role.
- every region answers -> `LocalCloud.aws.refused_region` answers DescribeStacks there with
  InvalidClientTokenId, as AWS does in an opt-in region the account has not enabled (only DescribeStacks,
  the first call every command makes there).
- change sets name the resources they change but not the properties -> each Modify carries Details: the
  properties whose template text differs, with their values before and after (replacement is not said).
- moto parses every template with PyYAML's pure-Python loader (~20 ms each, several times per change
  set), CPU that real CloudFormation does not spend on this machine -> JSON templates parse as JSON; and it
  finds each request's service by listing its package folder and trying hundreds of URL patterns, under a
  lock every request shares -> the answer is remembered per host name.

`python -m generator local-cloud --port 4566 --delay 2 --fail-region eu-west-1 --lambda-concurrency 10 --ingress
eu-west-1 --clock-speed 60` runs it in the foreground until Ctrl-C (`make local-cloud`); `--port 0` takes a free
port, and the startup hint prints the real one with the variables that point the generator at it (and `make
deploy`, or `packet-counter deploy` for the installed command), and where the listeners' names are listed. It
needs moto: the `local` extra (`pip install '.[local]'`, which `make local-cloud` does).

- an update of inline Lambda code through CloudFormation stores the source text where moto keeps a zip ->
  LambdaFunction.update_from_cloudformation_json zips it first, as create does.
- Lambda reservations are unbounded (moto checks a quota only when MOTO_LAMBDA_CONCURRENCY_QUOTA is set, and
  never through CloudFormation) -> lambda_concurrency holds ReservedConcurrentExecutions (CloudFormation create and
  update, PutFunctionConcurrency) to the account's quota per account and region, `LocalCloud.aws.lambda_concurrency`
  (`--lambda-concurrency`, default 1,000), with Lambda's message; the resource fails and the stack rolls back.
- StackSets are records in moto whose operations succeed the moment they are asked for -> stacksets answers
  the StackSet actions with a model of its own: operations that take time (each instance a real stack in
  its own account, through the change sets above), queue, honour the operation preferences and fail
  (`LocalCloud.stacksets`: a Gate for instance work, accounts without an execution role).

Its parts: stand_in (Proxylity's control plane, and the Gate that holds requests for tests), moto_patches
(moto's gaps closed, in this process only), lambda_concurrency (Lambda's account concurrency quota), stacksets
(StackSets modelled), listener_endpoints and deployed_source (each listener served from what is deployed),
lambda_functions (a function as Lambda holds it), lambda_logs (its invocations' log lines), schedules
(EventBridge rate schedules run), names_file (the listeners' names), server (LocalCloud: moto's server on
127.0.0.1, and the hint).
"""

from generator.local.cloud.server import DUMMY_CREDENTIALS, LocalCloud, PortInUse, hint
from generator.local.cloud.stacksets import InstanceWork, StackSetsBehaviour
from generator.local.cloud.stand_in import DESTINATION_ARN_TYPE, LISTENER_TYPE, Gate, ProxylityStandIn, StandInCall

__all__ = [
    "DESTINATION_ARN_TYPE",
    "DUMMY_CREDENTIALS",
    "LISTENER_TYPE",
    "Gate",
    "InstanceWork",
    "LocalCloud",
    "PortInUse",
    "ProxylityStandIn",
    "StackSetsBehaviour",
    "StandInCall",
    "hint",
]
