"""Drives the official CenturyLink Python SDK (clc-sdk 2.51) through the certification
scenario against a CLC endpoint, unmodified: only its base URLs are pointed elsewhere.

Usage: python clc_sdk_scenario.py BASE_URL USERNAME PASSWORD
Prints one line per step and "SCENARIO OK" at the end; exits non-zero on any failure.
"""

import sys
import time

import clc


def step(name, value=""):
    print(f"{name}: {value}", flush=True)


def main():
    base, username, password = sys.argv[1], sys.argv[2], sys.argv[3]
    clc.defaults.ENDPOINT_URL_V2 = base
    clc.defaults.ENDPOINT_URL_V1 = base + "/REST/"
    clc.v2.SetCredentials(username, password)

    alias = clc.v2.Account.GetAlias()
    location = clc.v2.Account.GetLocation()
    step("login", f"{alias} {location}")

    dc = clc.v2.Datacenter()
    step("data center", f"{dc.id} {dc.name} root={dc.root_group_name}")
    assert dc.root_group_name == f"{location} Hardware", dc.root_group_name

    groups = dc.Groups()
    default = groups.Get("Default Group")
    step("groups", ", ".join(sorted(g.name for g in groups.groups)))
    for name in ("Archive", "Default Group", "Templates"):
        assert any(g.name == name for g in groups.groups), name

    templates = dc.Templates().Search("centos-7")
    networks = dc.Networks().networks
    step("templates and networks", f"{templates[0].id} {networks[0].id}")

    reqs = clc.v2.Server.Create(
        name="sdk",
        cpu=1,
        memory=2,
        group_id=default.id,
        template=templates[0].id,
        network_id=networks[0].id,
    )
    failures = reqs.WaitUntilComplete(poll_freq=0.2, timeout=120)
    assert failures == 0, f"{failures} create requests failed"
    server = reqs.success_requests[0].Server()
    step("create server", server.name)

    server = clc.v2.Server(server.id)
    assert server.status == "active", server.status
    assert server.power_state == "started", server.power_state
    step("server details", f"{server.id} cpu={server.cpu} memory={server.memory} storage={server.storage} status={server.status}")

    price = server.PriceHourly()
    step("hourly price", f"{price:.5f}")
    assert price > 0

    assert server.PowerOff().WaitUntilComplete(poll_freq=0.2, timeout=60) == 0
    server.Refresh()
    assert server.power_state == "stopped", server.power_state
    step("power off", server.power_state)
    assert server.PowerOn().WaitUntilComplete(poll_freq=0.2, timeout=60) == 0
    server.Refresh()
    assert server.power_state == "started", server.power_state
    step("power on", server.power_state)

    assert server.PublicIPs().Add(ports=[{"protocol": "TCP", "port": 80}]).WaitUntilComplete(poll_freq=0.2, timeout=60) == 0
    server = clc.v2.Server(server.id)
    public = server.PublicIPs().public_ips
    assert len(public) == 1, public
    step("public ip", f"{public[0].id} ports={[str(p) for p in public[0].ports]}")

    billing = clc.v2.API.Call("GET", f"groups/{alias}/{default.id}/billing")
    servers = billing["groups"][default.id]["servers"]
    assert server.id in servers, servers
    step("group billing", servers[server.id])

    assert server.Delete().WaitUntilComplete(poll_freq=0.2, timeout=60) == 0
    try:
        clc.v2.Server(server.id)
        raise AssertionError("server still exists after delete")
    except clc.CLCException as e:
        step("delete", str(e))

    print("SCENARIO OK", flush=True)


if __name__ == "__main__":
    started = time.time()
    main()
    step("elapsed", f"{time.time() - started:.1f}s")
