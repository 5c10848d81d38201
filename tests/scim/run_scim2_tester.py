#!/usr/bin/env python3
"""Runs the scim2-tester compliance checks against a running Guildhall SCIM endpoint.

    run_scim2_tester.py --base-url http://127.0.0.1:8080/scim/v2 --token gh_scim_... [--tags discovery,misc]

The base URL and token may come from SCIM_BASE_URL and SCIM_TOKEN instead. --tags limits the run
to checks carrying one of the tags (comma-separated); leave it out, or pass "all", to run every
check. Every result is printed; the exit status is 1 when any check errored (ERROR or CRITICAL)
or when nothing succeeded at all, 2 when scim2-tester is not installed.
"""

import argparse
import os
import sys

FAILING = {"ERROR", "CRITICAL"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=os.environ.get("SCIM_BASE_URL"), help="e.g. http://host/scim/v2")
    parser.add_argument("--token", default=os.environ.get("SCIM_TOKEN"), help="a gh_scim_ bearer token")
    parser.add_argument("--tags", default="", help="comma-separated scim2-tester tags, or 'all'")
    parser.add_argument("--resource-types", default="", help="comma-separated resource types, e.g. User,Group")
    args = parser.parse_args()
    if not args.base_url or not args.token:
        parser.error("--base-url and --token (or SCIM_BASE_URL and SCIM_TOKEN) are required")
    return args


def split(value: str) -> set[str] | None:
    items = {item.strip() for item in value.split(",") if item.strip()}
    return None if not items or items == {"all"} else items


def main() -> int:
    args = parse_args()
    try:
        from httpx2 import Client
        from scim2_client.engines.httpx2 import SyncSCIMClient
        from scim2_tester import check_server
        from scim2_tester.discovery import get_all_available_tags
    except ImportError as exc:
        print(f"scim2-tester is not installed ({exc}); run: python3 -m pip install 'scim2-tester[httpx2]==0.5.2'")
        return 2

    tags = split(args.tags)
    known = get_all_available_tags()
    # A tag also selects its sub-tags: "crud" runs "crud:read", "crud:create", ...
    unknown = {tag for tag in tags or set() if not any(tag in k.split(":") for k in known)}
    if unknown:
        print(f"unknown tags {sorted(unknown)}; scim2-tester knows {known}")
        return 1
    resource_types = split(args.resource_types)

    http = Client(base_url=args.base_url, headers={"Authorization": f"Bearer {args.token}"}, timeout=30)
    with http:
        scim = SyncSCIMClient(http)
        results = check_server(
            scim,
            include_tags=tags,
            resource_types=sorted(resource_types) if resource_types else None,
        )

    counts: dict[str, int] = {}
    for result in results:
        status = result.status.name
        counts[status] = counts.get(status, 0) + 1
        where = f" [{result.resource_type}]" if result.resource_type else ""
        print(f"{status:<10} {result.title}{where}: {result.reason or ''}")
        if status in FAILING and result.data is not None:
            print(f"           data: {str(result.data)[:2000]}")

    summary = ", ".join(f"{n} {status.lower()}" for status, n in sorted(counts.items()))
    print(f"scim2-tester: {len(results)} checks ({summary}); tags: {sorted(tags) if tags else 'all'}")
    failed = sum(counts.get(status, 0) for status in FAILING)
    if failed:
        print(f"scim2-tester: {failed} checks failed")
        return 1
    if not counts.get("SUCCESS"):
        print("scim2-tester: no check succeeded")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
