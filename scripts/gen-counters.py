#!/usr/bin/env python3
"""Writes docs/counters.md from the counter lists of include/netstack/stats.h.

Each counter's row: its JSON name (group.name), its Linux SNMP MIB name
(from the X-macro entry), and what moves it: the comment right above the
entry in stats.h when there is one, else the description below. A counter
with neither fails, so a new counter cannot be added without saying what it
counts. `--check` compares instead of writing (scripts/check-docs.sh, run by
`make test`).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATS_H = os.path.join(ROOT, "include", "netstack", "stats.h")
OUT = os.path.join(ROOT, "docs", "counters.md")

# What moves the counters that have no comment of their own in stats.h.
DESC = {
    "ip.multicast_packets_received": "Packets received for a multicast destination (224.0.0.0/4).",
    "ip.broadcast_packets_received": "Packets received for the limited or a subnet broadcast address.",
    "ip.multicast_packets_sent": "Packets sent to a multicast destination.",
    "ip.broadcast_packets_sent": "Packets sent to a broadcast destination.",
    "ip.iptables_prerouting_dropped": "Dropped by a filter hook or rule at PREROUTING.",
    "ip.iptables_input_dropped": "Dropped by a filter hook or rule at INPUT.",
    "ip.iptables_forward_dropped": "Dropped by a filter hook or rule at FORWARD.",
    "ip.iptables_output_dropped": "Dropped by a filter hook or rule at OUTPUT.",
    "ip.iptables_postrouting_dropped": "Dropped by a filter hook or rule at POSTROUTING.",
    "ip.option_timestamp_received": "Received packets carrying the Timestamp option (RFC 791).",
    "ip.option_record_route_received": "Received packets carrying the Record Route option (RFC 791).",
    "ip.option_router_alert_received": "Received packets carrying the Router Alert option (RFC 2113).",
    "ip.option_unknown_received": "Options of a type this stack does not know, seen on received packets (RFC 1122 3.2.1.8).",
    "ip.reasm_reqds": "Fragments received that needed reassembly (one per fragment).",
    "ip.reasm_oks": "Datagrams reassembled whole.",
    "ip.reasm_fails": "Datagrams abandoned by reassembly: timeout, overlap, too big, memory limit (one per datagram).",
    "ip.reasm_timeout": "Datagrams abandoned because the reassembly timer (30 s) expired; also counted in reasm_fails.",
    "ip.reasm_overlaps": "Datagrams abandoned because fragments overlapped (exact duplicates are ignored, as Linux); also counted in reasm_fails.",
    "ip.frag_oks": "Datagrams fragmented successfully (send or forward).",
    "ip.frag_fails": "Datagrams that needed fragmenting and could not be (DF set on forward, no buffer).",
    "ip.frag_creates": "Fragments created.",
    "ip.forwarded": "Packets forwarded to another host (RFC 1812).",
    "ip.forward_ttl_exceeded": "Packets to forward whose TTL ran out: ICMP Time Exceeded sent (rate limits allowing).",
    "ip.forward_unrouteable": "Packets to forward with no route.",
    "ip.forward_packet_too_big": "Packets to forward larger than the egress MTU with DF set: ICMP Fragmentation Needed sent.",
    "ip.forward_host_unreachable": "Packets to forward whose next hop did not answer ARP: ICMP Host Unreachable sent.",
    "ip.forward_link_local_source": "Packets not forwarded because the source is link-local (169.254/16, RFC 3927 section 7); also in forward_errors.",
    "ip.forward_link_local_destination": "Packets not forwarded because the destination is link-local (169.254/16, RFC 3927 section 7); also in forward_errors.",
    "ip.forward_initializing_source": "Packets not forwarded because the source is 0.0.0.0 (RFC 1812 5.3.7); also in forward_errors.",
    "ip.forward_martian_source": "Packets not forwarded because the source is in 0/8, 127/8 or class E (RFC 1812 5.3.7, Linux martians); also in forward_errors.",
    "ip.forward_limited_broadcast": "Packets to 255.255.255.255, or that came in a link-layer broadcast frame, not forwarded (RFC 1812 5.3.5.1, 5.3.4).",
    "ip.forward_directed_broadcast": "Directed broadcasts for another NIC's subnet, delivered here but not forwarded onto it (RFC 2644; Linux's bc_forwarding off).",
    "ip.forward_multicast": "Multicast packets not forwarded (no multicast routing), unless this host is a member.",
    "ip.forward_errors": "Packets not forwarded through the sender's fault (also counted under their reason) or for lack of a buffer or link, as gVisor's Forwarding.Errors.",
    "icmp.sent_total": "ICMP messages sent, of any type.",
    "icmp.received_total": "ICMP messages received, of any type, before validation.",
    "icmp.sent_rate_limited_global": "ICMP errors refused by the global token bucket; also in sent_rate_limited.",
    "icmp.sent_rate_limited_host": "ICMP errors refused by the per-destination bucket; also in sent_rate_limited.",
    "igmp.sent_dropped": "IGMP messages that could not be sent (no buffer, link error).",
    "igmp.received_checksum_errors": "IGMP messages with a bad checksum; also counted in received_invalid.",
    "igmp.received_unrecognized": "IGMP messages of a type this stack does not know (ignored, RFC 3376 4.2).",
    "arp.packets_received": "ARP packets received, before any check.",
    "arp.disabled_packets_received": "ARP packets received while the NIC was disabled.",
    "arp.malformed_packets_received": "ARP packets too short or not Ethernet/IPv4 (RFC 826).",
    "arp.requests_received": "Requests for one of our addresses, answered.",
    "arp.requests_received_unknown_target_address": "Requests for an address that is not ours, ignored.",
    "arp.replies_received": "Replies received (they update the neighbour cache).",
    "arp.outgoing_requests_sent": "Requests sent to resolve a next hop.",
    "arp.outgoing_requests_dropped": "Requests that could not be sent (no buffer, link error).",
    "arp.outgoing_request_interface_has_no_local_address_errors": "Requests not sent because the NIC has no IPv4 address.",
    "arp.outgoing_request_bad_local_address_errors": "Requests not sent because the chosen source address is unusable.",
    "arp.outgoing_replies_sent": "Replies sent.",
    "arp.outgoing_replies_dropped": "Replies that could not be sent.",
    "udp.packets_received": "Datagrams delivered to an endpoint.",
    "udp.unknown_port_errors": "Datagrams to a port no endpoint is bound to: ICMP Port Unreachable sent (unicast only).",
    "udp.receive_buffer_errors": "Datagrams dropped because the endpoint's receive queue was full (ns_udp_set_rcvbuf()).",
    "udp.malformed_packets_received": "Datagrams too short or with a length field beyond the packet.",
    "udp.checksum_errors": "Datagrams with a bad checksum; also counted in malformed_packets_received.",
    "udp.packets_sent": "Datagrams sent.",
    "udp.packet_send_errors": "Datagrams that could not be sent (no route, no buffer, link error).",
    "nic.rx_packets": "Frames received by NICs (all NICs summed in the stack's totals).",
    "nic.rx_bytes": "Bytes of those frames.",
    "nic.tx_packets": "Frames handed to links.",
    "nic.tx_bytes": "Bytes of those frames.",
}

GROUP_TITLES = {
    "ip": "IPv4 (`ip.*`)",
    "icmp": "ICMPv4 (`icmp.*`)",
    "igmp": "IGMP (`igmp.*`)",
    "arp": "ARP (`arp.*`)",
    "udp": "UDP (`udp.*`)",
    "nic": "Links (`nic.*`)",
}

ICMP_TYPES = {
    "echo_request": "Echo Request", "echo_reply": "Echo Reply",
    "dst_unreachable": "Destination Unreachable", "src_quench": "Source Quench",
    "redirect": "Redirect", "time_exceeded": "Time Exceeded",
    "param_problem": "Parameter Problem", "timestamp": "Timestamp Request",
    "timestamp_reply": "Timestamp Reply", "info_request": "Information Request",
    "info_reply": "Information Reply", "addr_mask_request": "Address Mask Request",
    "addr_mask_reply": "Address Mask Reply",
    "membership_query": "Membership Query", "v1_membership_report": "IGMPv1 Membership Report",
    "v2_membership_report": "IGMPv2 Membership Report",
    "v3_membership_report": "IGMPv3 Membership Report", "leave_group": "Leave Group",
}


def parse():
    text = open(STATS_H).read()
    groups = re.findall(r"X\((\w+), (NS_STATS_\w+)\)", text.split("#define NS_STATS_GROUPS(X)")[1])
    out = []
    for group, macro in groups:
        body = text.split(f"#define {macro}(X)")[1]
        entries = []
        comment = None
        for line in body.split("\n")[1:]:
            s = line.strip().rstrip("\\").strip()
            m = re.match(r"/\*+\s*(.*?)\s*\*/$", s)
            if m:
                comment = m.group(1)
                continue
            m = re.match(r'X\((\w+), "(\w*)"\)', s)
            if m:
                entries.append((m.group(1), m.group(2), comment))
                comment = None
                continue
            if not line.rstrip().endswith("\\") and not s.startswith("X("):
                break
        out.append((group, entries))
    return out


def describe(group, name, own):
    key = f"{group}.{name}"
    if own:
        return own
    if key in DESC:
        return DESC[key]
    if group in ("icmp", "igmp"):
        kind = "ICMP" if group == "icmp" else "IGMP"
        for verb, past in (("sent_", "sent"), ("received_", "received")):
            if name.startswith(verb) and name[len(verb):] in ICMP_TYPES:
                return f"{kind} {ICMP_TYPES[name[len(verb):]]} messages {past}."
    return None


def render(groups):
    total = sum(len(e) for _, e in groups)
    lines = [
        "# Counters",
        "",
        "<!-- Generated by scripts/gen-counters.py from include/netstack/stats.h;",
        "     `make test` fails when this file and the header disagree. -->",
        "",
        f"Every drop, delivery and transmission moves one of these {total} counters",
        "(DESIGN.md: bad input is counted, never fatal). Read them with",
        "`ns_stack_get_stats()` (the whole stack) or `ns_nic_get_stats()` (one NIC)",
        "into a `struct ns_stats`, by field (`st.ip.packets_received`), by name",
        "(`ns_stats_find(&st, \"ip.packets_received\")`), all at once",
        "(`ns_stats_foreach()`), or as JSON (`ns_stats_to_json()`, which",
        "`netstack run --stats FILE` writes). The names are the 2021 gVisor seed's",
        "(`tcpip.Stats` fields in snake_case); the Linux column is the SNMP MIB",
        "name that `nstat` and `/proc/net/snmp` show for the same event, empty",
        "where Linux has none. Counters are never removed or reordered;",
        "new ones are appended.",
        "",
        "Where a row says \"also counted in\", one event moves both counters.",
        "",
    ]
    missing = []
    for group, entries in groups:
        lines += [f"## {GROUP_TITLES.get(group, group)}", "",
                  "| counter | Linux MIB | what moves it |", "| --- | --- | --- |"]
        for name, mib, own in entries:
            d = describe(group, name, own)
            if d is None:
                missing.append(f"{group}.{name}")
                d = "?"
            if not d.endswith("."):
                d += "."
            lines.append(f"| `{group}.{name}` | {mib and '`' + mib + '`'} | {d} |")
        lines.append("")
    return "\n".join(lines), missing


def main():
    text, missing = render(parse())
    if missing:
        print("gen-counters: no description for: " + ", ".join(missing) +
              " (comment the entry in stats.h or add it to DESC)", file=sys.stderr)
        return 1
    if "--check" in sys.argv[1:]:
        try:
            cur = open(OUT).read()
        except FileNotFoundError:
            cur = ""
        return 0 if cur == text else 1
    with open(OUT, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
