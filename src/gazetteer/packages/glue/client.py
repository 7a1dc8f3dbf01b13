"""The boto3 Glue client, wrapped: paginated reads, bounded retries, call counters, translated errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import botocore.exceptions as bce
import botocore.session
from botocore import xform_name
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.utils import parse_timestamp

from gazetteer.packages.glue.concurrency import AdaptiveLimit
from gazetteer.packages.glue.config import GlueCrawlConfig
from gazetteer.packages.glue.partitions import Partitions, newest_of

__all__ = ["GlueReader", "GlueError", "GlueUnreachable"]

_BAD_KEYS = {"UnrecognizedClientException", "InvalidSignatureException", "InvalidClientTokenId",
             "SignatureDoesNotMatch", "ExpiredTokenException", "IncompleteSignature"}
_THROTTLING = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
# The real page caps of the Glue API; asking for them saves calls.
_TABLES_PAGE = 100
_PARTITIONS_PAGE = 1000
# GetPartitions' most segments: a table with more than one page of partitions is read in this many at once.
_SEGMENTS = 10
_STATISTICS_BATCH = 100  # the most column names one GetColumnStatisticsForTable takes
_JOBS_PAGE = 200  # GetJobs' and GetCrawlers' most (1,000 for GetJobs; 200 keeps both the same)
# A Glue job script bigger than this is not read: Glue Studio's are a few kilobytes.
MAX_SCRIPT_BYTES = 2_000_000


def _epoch_timestamp(value: Any) -> datetime:
    """Glue's JSON answers give times as epoch seconds. botocore's default parser makes a local time zone object
    for each (a sixth to a third of the CPU of reading a page of partitions); this one makes UTC times, the same
    instants. Anything but a number goes to botocore's."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return cast(datetime, parse_timestamp(value))


def _counted_partitions_only(response_dict: dict[str, Any], **_: Any) -> None:
    """Cut a GetPartitions answer down to what `GlueReader.partitions` reads of a listing (each partition's
    Values and CreationTime) before botocore parses it. Its parse walks every field of every partition through
    the service model: 90 ms of CPU a page of 1,000 partitions (bench/README.md, "Remote Glue"), in the crawl's
    one process, which ten segments read side by side cannot hide. The reader asks GetPartitions for nothing
    else; an answer that is not a JSON object (or an error) is left for botocore to report."""
    if response_dict.get("status_code") != 200:
        return
    try:
        answer = json.loads(response_dict["body"])
    except (KeyError, TypeError, ValueError):
        return
    if isinstance(answer, dict) and isinstance(answer.get("Partitions"), list):
        answer["Partitions"] = [{key: entry[key] for key in ("Values", "CreationTime") if key in entry}
                                for entry in answer["Partitions"] if isinstance(entry, dict)]
        response_dict["body"] = json.dumps(answer).encode()


def _botocore_session() -> botocore.session.Session:
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_epoch_timestamp)
    return core


class GlueError(Exception):
    """A Glue call that failed for good (after retries), with what a user needs to fix it."""

    def __init__(self, operation: str, code: str, message: str, *, service: str = "glue") -> None:
        self.operation = operation
        self.code = code
        self.iam_action = f"{service}:{operation}"
        detail = f"{operation} failed with {code}: {message}"
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            detail += f" (grant {self.iam_action} to the crawler's IAM user or role)"
        elif code in _BAD_KEYS:
            detail += " (AWS refused the credentials: check the access key and secret key given to the crawl)"
        super().__init__(detail)


class GlueUnreachable(GlueError):
    """No answer from the Glue endpoint at all."""


class _RoleSession:
    """Credentials of an assumed IAM role, renewed by botocore before they expire (a long crawl outlives the
    hour a role session lasts). The first AssumeRole happens at once, so a role that cannot be assumed fails
    the crawl before any Glue call, saying which principal asked for which role."""

    SESSION_NAME = "gazetteer-crawl"

    def __init__(self, source: boto3.session.Session, config: GlueCrawlConfig, boto_config: Config,
                 seconds: int) -> None:
        assert config.role_arn is not None
        self._role_arn, self._external_id, self._seconds = config.role_arn, config.external_id, seconds
        # STS's endpoint comes from AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, as for Glue.
        self._sts = source.client("sts", config=boto_config)

    def _assume(self) -> dict[str, Any]:
        params: dict[str, Any] = {"RoleArn": self._role_arn, "RoleSessionName": self.SESSION_NAME,
                                  "DurationSeconds": self._seconds}
        if self._external_id:
            params["ExternalId"] = self._external_id
        try:
            answer = self._sts.assume_role(**params)["Credentials"]
        except bce.ClientError as exc:
            error = exc.response.get("Error", {})
            raise GlueError("AssumeRole", error.get("Code") or "Unknown",
                            f"{self._caller()} could not assume {self._role_arn}: {error.get('Message') or exc} "
                            "(the role's trust policy must allow this principal sts:AssumeRole"
                            f"{' with this external id' if self._external_id else ''})", service="sts") from None
        except bce.NoCredentialsError:
            raise GlueError("AssumeRole", "NoCredentials", f"no AWS credentials to assume {self._role_arn} with: give "
                            "an access key and secret key, or run where the AWS environment has some",
                            service="sts") from None
        except (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ReadTimeoutError) as exc:
            raise GlueUnreachable("AssumeRole", type(exc).__name__, f"no answer from STS ({exc}); check the "
                                  "network and AWS_ENDPOINT_URL_STS", service="sts") from None
        expiry = answer["Expiration"]
        return {"access_key": answer["AccessKeyId"], "secret_key": answer["SecretAccessKey"],
                "token": answer["SessionToken"], "expiry_time": expiry.isoformat() if hasattr(expiry, "isoformat")
                else str(expiry)}

    def _caller(self) -> str:
        """Who asked (the source credentials' ARN), for the error message; best effort."""
        try:
            return f"{self._sts.get_caller_identity()['Arn']}"
        except (bce.BotoCoreError, bce.ClientError, KeyError):
            return "The crawl's AWS principal"

    def session(self, region: str) -> boto3.session.Session:
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=self._assume(), refresh_using=self._assume, method="sts-assume-role")
        core = _botocore_session()
        core._credentials = credentials  # noqa: SLF001 - botocore's documented way to plug refreshable credentials
        return boto3.session.Session(botocore_session=core, region_name=region)


class GlueReader:
    """Reads one Glue catalog. Thread-safe: a crawl's workers share one reader (boto3 clients are)."""

    def __init__(self, config: GlueCrawlConfig, *, max_attempts: int, calls: AdaptiveLimit | None = None,
                 role_session_seconds: int = 3600) -> None:
        self.catalog_id = config.catalog_id
        # Every Glue call of the reader takes a slot of this limit: one budget for all of a crawl's threads.
        self.calls = calls or AdaptiveLimit(initial=1, maximum=1)
        self._local = threading.local()
        session = boto3.session.Session(
            aws_access_key_id=config.access_key,
            aws_secret_access_key=config.secret_key.get_secret_value() if config.secret_key else None,
            region_name=config.region,
            botocore_session=_botocore_session(),
        )
        boto_config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=self.calls.maximum + 2,
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra="gazetteer",
        )
        if config.role_arn:
            session = _RoleSession(session, config, boto_config, role_session_seconds).session(config.region)
        # The endpoint comes from AWS_ENDPOINT_URL_GLUE / AWS_ENDPOINT_URL when set, as boto3 resolves them.
        self._client = session.client("glue", config=boto_config)
        self._lock = threading.Lock()
        self.api_calls = 0
        self.throttled = 0
        self._client.meta.events.register("response-received.glue.*", self._count)
        self._client.meta.events.register("before-parse.glue.GetPartitions", _counted_partitions_only)
        self._session, self._boto_config = session, boto_config
        # LF-tags are read as Glue is: same credentials, retries and budget of calls, counted alike. The endpoint
        # comes from AWS_ENDPOINT_URL_LAKEFORMATION / AWS_ENDPOINT_URL.
        self._lakeformation = session.client("lakeformation", config=boto_config)
        self._lakeformation.meta.events.register("response-received.lakeformation.*", self._count)
        self._s3: Any = None  # made on the first script read: most crawls read none
        self._once: Any = None  # a Glue client without retries, for GetDataflowGraph
        self._account: str | Exception | None = None
        self._account_lock = threading.Lock()

    def _count(self, parsed_response: dict[str, Any] | None = None, exception: Exception | None = None,
               response_dict: dict[str, Any] | None = None, **_: Any) -> None:
        code = ((parsed_response or {}).get("Error") or {}).get("Code")
        with self._lock:
            self.api_calls += 1
            if code in _THROTTLING:
                self.throttled += 1
        # Called on the thread making the call (botocore is synchronous), inside its slot, for every attempt.
        if code in _THROTTLING:
            self.calls.throttled(getattr(self._local, "epoch", -1))
        elif exception is None and int((response_dict or {}).get("status_code") or 500) < 500:
            # Any other answer is Glue keeping up, an error such as EntityNotFoundException (a table without
            # statistics: most of them) included; counting only successes starved the limit's growth.
            self.calls.answered()

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """A Glue call on the reader's catalog."""
        if self.catalog_id:
            params["CatalogId"] = self.catalog_id
        return self._ask(self._client, operation, **params)

    def _pages(self, operation: str, key: str, *, catalog: bool = True,
               **params: Any) -> Iterator[list[dict[str, Any]]]:
        """Every page of a listing; `catalog` False for the account's own resources (jobs, crawlers), which no
        catalog id names."""
        token: str | None = None
        while True:
            paging = {"NextToken": token} if token else {}
            answer = (self._call(operation, **params, **paging) if catalog
                      else self._ask(self._client, operation, **params, **paging))
            yield answer.get(key, [])
            token = answer.get("NextToken")
            if not token:
                return

    def databases(self) -> Iterator[list[dict[str, Any]]]:
        """Every database the caller may see, shared ones included, a page at a time."""
        return self._pages("GetDatabases", "DatabaseList", MaxResults=_TABLES_PAGE, ResourceShareType="ALL")

    def table_pages(self, database: str) -> Iterator[list[dict[str, Any]]]:
        """The tables of one database, a page at a time (never SearchTables: it stops near 10,000 hits)."""
        return self._pages("GetTables", "TableList", DatabaseName=database, MaxResults=_TABLES_PAGE)

    def partitions(self, database: str, table: str) -> Partitions:
        """How many partitions a table has, and its newest few with their own columns (one BatchGetPartition).

        The listing leaves the column schema out (it is not needed to count). A table with more than one page
        of partitions is listed again in Glue's 10 segments at once: a page is a round trip, and 100,000
        partitions are 100 of them one after another, or 10 each side by side.
        """
        listing: dict[str, Any] = dict(DatabaseName=database, TableName=table, MaxResults=_PARTITIONS_PAGE,
                                       ExcludeColumnSchema=True)
        first = self._call("GetPartitions", **listing)
        if first.get("NextToken"):
            def segment(number: int) -> list[dict[str, Any]]:
                segmented = {**listing, "Segment": {"SegmentNumber": number, "TotalSegments": _SEGMENTS}}
                return [entry for page in self._pages("GetPartitions", "Partitions", **segmented) for entry in page]

            with ThreadPoolExecutor(_SEGMENTS, thread_name_prefix="glue-segments") as pool:
                found = [entry for part in pool.map(segment, range(_SEGMENTS)) for entry in part]
        else:
            found = first.get("Partitions", [])
        count, newest = newest_of(found)
        if not newest:
            return Partitions(count)
        answer = self._call("BatchGetPartition", DatabaseName=database, TableName=table,
                            PartitionsToGet=[{"Values": list(p.values)} for p in newest])
        columns = {tuple(str(v) for v in entry.get("Values") or ()): tuple(
            (entry.get("StorageDescriptor") or {}).get("Columns") or ()) for entry in answer.get("Partitions", [])}
        return Partitions(count, tuple(replace(p, columns=columns.get(p.values)) for p in newest))

    def column_statistics(self, database: str, table: str, columns: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Glue's statistics of these columns by name (a ColumnStatistics each), asked 100 columns at a time.

        Columns without statistics are left out. A table without any answers EntityNotFoundException, which
        means just that (or that it was dropped since it was listed): no statistics, not an error.
        """
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(columns), _STATISTICS_BATCH):
            try:
                answer = self._call("GetColumnStatisticsForTable", DatabaseName=database, TableName=table,
                                    ColumnNames=list(columns[start:start + _STATISTICS_BATCH]))
            except GlueError as error:
                if error.code == "EntityNotFoundException":
                    return found
                raise
            found.update({entry["ColumnName"]: entry for entry in answer.get("ColumnStatisticsList", [])
                          if isinstance(entry.get("ColumnName"), str)})
        return found

    def glue_tags(self, database: str) -> dict[str, str]:
        """GetTags: a database's Glue resource tags (key → value); none for one dropped since it was listed.
        Tables have none: Glue does not tag them (docs/design.md, Glue facts §16)."""
        try:
            answer = self._ask(self._client, "GetTags", ResourceArn=self._arn(database))
        except GlueError as error:
            if error.code == "EntityNotFoundException":
                return {}
            raise
        return {str(key): str(value) for key, value in (answer.get("Tags") or {}).items()}

    def lake_formation_tags_defined(self) -> bool:
        """Whether the catalog has any LF-tag to assign, its own or shared with it (ListLFTags: one call, the
        first page is enough). Without one no resource carries any, and no table needs asking."""
        params: dict[str, Any] = {"ResourceShareType": "ALL", "MaxResults": 1}
        if self._catalog_account:
            params["CatalogId"] = self._catalog_account
        return bool(self._ask(self._lakeformation, "ListLFTags", **params).get("LFTags"))

    def lake_formation_tags(self, database: str, table: str | None = None) -> dict[str, Any]:
        """GetResourceLFTags: the LF-tags assigned to a database (`LFTagOnDatabase`), or to a table
        (`LFTagsOnTable`) and its columns (`LFTagsOnColumns`); those they only inherit are left out
        (`ShowAssignedLFTags`), so each asset shows its own. Nothing for a resource dropped since it was listed."""
        resource: dict[str, str] = {"DatabaseName": database, "Name": table} if table else {"Name": database}
        if self.catalog_id:
            resource["CatalogId"] = self.catalog_id
        try:
            answer = self._ask(self._lakeformation, "GetResourceLFTags", ShowAssignedLFTags=True,
                               Resource={"Table" if table else "Database": resource})
        except GlueError as error:
            if error.code == "EntityNotFoundException":
                return {}
            raise
        return {key: answer[key] for key in ("LFTagOnDatabase", "LFTagsOnTable", "LFTagsOnColumns") if key in answer}

    def jobs(self) -> Iterator[list[dict[str, Any]]]:
        """The account's Glue jobs (in the crawl's region), a page at a time."""
        return self._pages("GetJobs", "Jobs", catalog=False, MaxResults=_JOBS_PAGE)

    def crawlers(self) -> Iterator[list[dict[str, Any]]]:
        """The account's Glue crawlers, a page at a time."""
        return self._pages("GetCrawlers", "Crawlers", catalog=False, MaxResults=_JOBS_PAGE)

    def dataflow_graph(self, script: str) -> dict[str, Any]:
        """GetDataflowGraph: the DAG AWS reads from a Glue script (DagNodes, DagEdges). Asked once, never retried:
        an endpoint that does not offer it answers a server error (moto: 500), which retries would only repeat."""
        with self._lock:
            if self._once is None:
                self._once = self._session.client("glue", config=self._boto_config.merge(
                    Config(retries={"mode": "standard", "total_max_attempts": 1})))
                self._once.meta.events.register("response-received.glue.*", self._count)
        return self._ask(self._once, "GetDataflowGraph", PythonScript=script)

    def script(self, url: str) -> str:
        """The text of a job script at an s3:// URL, read with the crawl's credentials (S3 endpoint from
        AWS_ENDPOINT_URL_S3); a GlueError names s3:GetObject when refused."""
        bucket, _, key = url.removeprefix("s3://").partition("/")
        with self._lock:
            if self._s3 is None:
                self._s3 = self._session.client("s3", config=self._boto_config)
                self._s3.meta.events.register("response-received.s3.*", self._count)
        answer = self._ask(self._s3, "GetObject", Bucket=bucket, Key=key)
        body = answer["Body"]
        try:
            if int(answer.get("ContentLength") or 0) > MAX_SCRIPT_BYTES:
                raise GlueError("GetObject", "ScriptTooLarge", f"{url} is over {MAX_SCRIPT_BYTES:,} bytes; not read",
                                service="s3")
            return cast(bytes, body.read(MAX_SCRIPT_BYTES)).decode("utf-8", errors="replace")
        finally:
            body.close()

    @property
    def _catalog_account(self) -> str | None:
        """The account of the catalog id, when one is given (an S3 Tables catalog's is the part before `:`)."""
        return self.catalog_id.split(":", 1)[0] if self.catalog_id else None

    def account(self) -> str:
        """The AWS account whose catalog the crawl reads, for ARNs: the catalog id's, else the caller's (the
        role's, when one is assumed), asked of STS once. A failure is kept and raised again: the tables waiting
        for the account would each ask, after retries, and fail alike."""
        with self._account_lock:
            if self._account is None:
                if self._catalog_account:
                    self._account = self._catalog_account
                else:
                    sts = self._session.client("sts", config=self._boto_config)
                    try:
                        self._account = str(self._ask(sts, "GetCallerIdentity")["Account"])
                    except Exception as error:  # noqa: BLE001 - raised below, to this caller and the next ones
                        self._account = error
            if isinstance(self._account, Exception):
                raise self._account
            return self._account

    def _arn(self, database: str) -> str:
        """A database's ARN (docs/design.md, Glue facts §16): an S3 Tables catalog's databases have
        `s3tablescatalog/<bucket>/` before their names."""
        region = self._session.region_name
        partition = self._session.get_partition_for_region(region)
        path = "/".join(part for part in ((self.catalog_id or "").partition(":")[2], database) if part)
        return f"arn:{partition}:glue:{region}:{self.account()}:database/{path}"

    def _ask(self, client: Any, operation: str, **params: Any) -> dict[str, Any]:
        """One call of `client` (Glue, Lake Formation) in a slot of the crawl's budget, as it is: `_call` adds the
        catalog, which GetTags and Lake Formation do not take. Failures become GlueErrors naming the service's
        IAM action and, when nothing answers, its endpoint variable."""
        service = client.meta.service_model.signing_name
        try:
            with self.calls.slot() as self._local.epoch:
                return cast(dict[str, Any], getattr(client, xform_name(operation))(**params))
        except bce.ClientError as exc:
            error = exc.response.get("Error", {})
            raise GlueError(operation, error.get("Code") or "Unknown", error.get("Message") or str(exc),
                            service=service) from None
        except (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ReadTimeoutError,
                bce.ConnectionClosedError) as exc:
            raise GlueUnreachable(operation, type(exc).__name__,
                                  f"no answer from {client.meta.endpoint_url} ({exc}); check the region, the network "
                                  f"and AWS_ENDPOINT_URL_{service.upper()}", service=service) from None
        except bce.NoCredentialsError:
            raise GlueError(operation, "NoCredentials", "no AWS credentials: give an access key and secret key",
                            service=service) from None
