"""The AWS adapter: one config account → one ``Inventory``, reading (region, service) scopes concurrently."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from failover.errors import DeadlineExceeded, ProviderError
from failover.model import Inventory, Provider, Resource, ScopeError, utcnow
from failover.schema import Account
from providers.aws.autoscaling import read_groups
from providers.aws.cloudwatch import lag_metric_regions, read_lag_metrics
from providers.aws.context import Ctx
from providers.aws.dynamodb import read_tables
from providers.aws.ec2 import read_instances
from providers.aws.elasticache import read_caches
from providers.aws.elbv2 import read_load_balancers
from providers.aws.globalaccelerator import read_accelerators
from providers.aws.rds import read_databases
from providers.aws.route53 import read_route53
from providers.aws.s3 import read_buckets
from providers.aws.session import guarded, open_clients
from providers.base import Prior, deadline_of, error_kind, fan_out, one_line

RegionalReader = Callable[[Ctx, str], list[Resource]]
GlobalReader = Callable[[Ctx], list[Resource]]

REGIONAL: dict[str, RegionalReader] = {
    "ec2": read_instances,
    "autoscaling": read_groups,
    "elbv2": read_load_balancers,
    "rds": read_databases,
    "dynamodb": read_tables,
    "elasticache": read_caches,
}
GLOBAL: dict[str, GlobalReader] = {"route53": read_route53, "s3": read_buckets, "globalaccelerator": read_accelerators}
SERVICES = (*REGIONAL, *GLOBAL)
LAG_METRICS = "lag_metrics"  # the scope reading the declared stores' lag metrics (CloudWatch)


class AwsAdapter:
    """Reads EC2, Auto Scaling, ELBv2, RDS, DynamoDB, ElastiCache per region and Route 53, S3, Global
    Accelerator once per account.

    ``services`` narrows what is read (the benchmark and focused tests use it); ``page_size`` sets
    every paginator's page size (``None``: the service default); ``retry_mode``/``max_attempts``
    configure botocore's retry handler, the one retry layer.
    """

    provider = Provider.AWS

    def __init__(
        self,
        *,
        services: Iterable[str] = SERVICES,
        page_size: int | None = None,
        retry_mode: str = "standard",
        max_attempts: int = 5,
    ) -> None:
        self.services = tuple(services)
        unknown = set(self.services) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown AWS services {sorted(unknown)}; known: {', '.join(SERVICES)}")
        self.page_size = page_size
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts

    def inventory(self, account: Account, prior: Prior | None = None) -> Inventory:
        """``prior``: the account's previous inventory, whose termination protection readings are reused
        while young enough (``providers.aws.ec2``)."""
        started = utcnow()
        deadline = deadline_of(account)
        try:
            clients = open_clients(
                account, retry_mode=self.retry_mode, max_attempts=self.max_attempts, deadline=deadline
            )
        except ProviderError as err:  # assuming the role failed: nothing in the account can be read
            scope = ScopeError(scope="sts:AssumeRole", error=error_kind(err), reason=one_line(err))
            return Inventory(account=account.name, provider=self.provider, incomplete=[scope], started_at=started)
        workers = account.max_concurrency
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aws-detail")
        try:
            ctx = Ctx(
                account=account, clients=clients, pool=pool, page_size=self.page_size, prior=prior, deadline=deadline
            )
            account_id = pool.submit(self._account_id, ctx)  # alongside the scopes, not before them
            scopes = [f"{r}/{s}" for r in account.scopes for s in self.services if s in REGIONAL]
            scopes += [f"global/{s}" for s in self.services if s in GLOBAL]
            scopes += [f"{r}/{LAG_METRICS}" for r in lag_metric_regions(account)]

            def read(scope: str) -> list[Resource]:
                where, service = scope.split("/", 1)
                if where == "global":
                    return GLOBAL[service](ctx)
                if service == LAG_METRICS:
                    return read_lag_metrics(ctx, where)
                return REGIONAL[service](ctx, where)

            resources, errors = fan_out(scopes, read, max_workers=workers, deadline=deadline)
            try:
                ctx.account_id = account_id.result(timeout=deadline.remaining())
            except TimeoutError:
                late = DeadlineExceeded(f"not answered within {deadline.describe()}")
                ctx.incomplete("global/sts", late, "account id unknown")
        finally:  # calls still running (past the deadline, or given up just before it) end on their own timeouts
            pool.shutdown(wait=False, cancel_futures=True)
        if ctx.account_id:  # our own fresh resources, not shared yet: fill in the id guardrail checks compare
            for r in resources:
                r.attrs["account_id"] = ctx.account_id
        return Inventory(
            account=account.name,
            provider=self.provider,
            resources=resources,
            incomplete=errors + ctx.problems,
            started_at=started,
            finished_at=utcnow(),
        )

    @staticmethod
    def _account_id(ctx: Ctx) -> str:
        """The 12-digit account id (guardrail checks compare credential scopes); empty if unknown."""
        sts = ctx.clients("sts", ctx.account.regions[0])
        try:
            return str(guarded(lambda: sts.get_caller_identity())["Account"])
        except ProviderError as err:
            ctx.incomplete("global/sts", err, "account id unknown")
            return ""
