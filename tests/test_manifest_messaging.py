"""What a partition is as an FF-A endpoint comes from its `messaging-method`
alone: a partition that takes part in messaging (it may message others,
others may message it, or others may notify it) must declare it
(MSG-METHOD-MISSING); one that takes no part needs nothing; the tables
carry what the declaration says, whatever the permissions grant."""
import re

from manifest_helpers import P, compile_text, lines_of, manifest

ALL_SIX = ('messaging-method = "direct-req-recv", "direct-req-send", "indirect", '
           '"notification", "direct-req2-recv", "direct-req2-send";')


def properties(tmp_path) -> dict[str, int]:
    """label -> .ffa_properties of the tables just written."""
    tables = (tmp_path / "out" / "manifest_tables.c").read_text()
    found = re.findall(r'\.name = "([^"]*)",(?:(?!\.name = ).)*?'
                       r'\.ffa_properties = (0x[0-9a-f]+|0),', tables, re.S)
    return {name: int(value, 16) for name, value in found}


def errors(stderr: str) -> list[str]:
    return [l for l in stderr.splitlines() if "error[" in l]


def test_a_message_target_without_a_declaration_is_named_with_its_line(tmp_path):
    text = manifest([P("alpha", 1, "0", "0x41000000",
                       extra='messaging-method = "direct-req-send"; messaging = <&beta>;'),
                     P("beta", 2, "1", "0x41400000")])
    r = compile_text(tmp_path, text)
    assert r.returncode == 1
    assert errors(r.stderr) == [
        f"manifests/m.dts:{lines_of(text, 'beta: partition@2')}: "
        "error[MSG-METHOD-MISSING]: /bulkhead/partitions/partition@2: partition "
        "\"beta\" takes part in FF-A messaging but declares no messaging-method: "
        "it is the target of messages from \"alpha\" ('messaging'); add "
        "messaging-method = \"direct-req-recv\", \"indirect\", \"direct-req2-recv\"; "
        "(every method its permissions allow), or the part of it that it uses"]
    assert not (tmp_path / "out" / "manifest_tables.c").exists()


def test_the_message_names_every_use_and_suggests_what_they_allow(tmp_path):
    text = manifest([P("alpha", 1, "0", "0x41000000",
                       extra=f"{ALL_SIX} messaging = <&beta>; notify = <&beta>;"),
                     P("beta", 2, "1", "0x41400000", extra="messaging = <&alpha &gamma>;"),
                     P("gamma", 3, "2", "0x41800000",
                       extra='messaging-method = "indirect";')])
    r = compile_text(tmp_path, text)
    assert r.returncode == 1
    assert errors(r.stderr) == [
        f"manifests/m.dts:{lines_of(text, 'beta: partition@2')}: "
        "error[MSG-METHOD-MISSING]: /bulkhead/partitions/partition@2: partition "
        "\"beta\" takes part in FF-A messaging but declares no messaging-method: "
        "it may send messages to \"alpha\", \"gamma\" ('messaging'); it is the "
        "target of messages from \"alpha\" ('messaging'); it is the target of "
        "notifications from \"alpha\" ('notify'); add " + ALL_SIX + " (every "
        "method its permissions allow), or the part of it that it uses"]


def test_a_sender_without_a_declaration_is_named(tmp_path):
    text = manifest([P("alpha", 1, "0", "0x41000000", extra="messaging = <&beta>;"),
                     P("beta", 2, "1", "0x41400000",
                       extra='messaging-method = "direct-req-recv";')])
    r = compile_text(tmp_path, text)
    assert r.returncode == 1
    assert errors(r.stderr) == [
        f"manifests/m.dts:{lines_of(text, 'alpha: partition@1')}: "
        "error[MSG-METHOD-MISSING]: /bulkhead/partitions/partition@1: partition "
        "\"alpha\" takes part in FF-A messaging but declares no messaging-method: "
        "it may send messages to \"beta\" ('messaging'); add messaging-method = "
        "\"direct-req-send\", \"indirect\", \"direct-req2-send\"; (every method its "
        "permissions allow), or the part of it that it uses"]


def test_a_notified_partition_without_a_declaration_is_named(tmp_path):
    text = manifest([P("alpha", 1, "0", "0x41000000", extra="notify = <&beta>;"),
                     P("beta", 2, "1", "0x41400000")])
    r = compile_text(tmp_path, text)
    assert r.returncode == 1
    assert errors(r.stderr) == [
        f"manifests/m.dts:{lines_of(text, 'beta: partition@2')}: "
        "error[MSG-METHOD-MISSING]: /bulkhead/partitions/partition@2: partition "
        "\"beta\" takes part in FF-A messaging but declares no messaging-method: "
        "it is the target of notifications from \"alpha\" ('notify'); add "
        "messaging-method = \"notification\"; (every method its permissions "
        "allow), or the part of it that it uses"]


def test_partitions_without_messaging_need_no_declaration(tmp_path):
    r = compile_text(tmp_path, manifest())
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert properties(tmp_path) == {"alpha": 0, "beta": 0}


def test_a_partition_that_only_notifies_needs_no_declaration(tmp_path):
    # FF-A has no property for sending notifications: `notify` is the
    # permission, and the receiver's "notification" what it needs
    text = manifest([P("alpha", 1, "0", "0x41000000", extra="notify = <&beta>;"),
                     P("beta", 2, "1", "0x41400000",
                       extra='messaging-method = "notification";')])
    r = compile_text(tmp_path, text)
    assert r.returncode == 0, r.stderr
    assert properties(tmp_path) == {"alpha": 0, "beta": 0x8}


def test_a_self_listing_alone_asks_for_no_declaration(tmp_path):
    text = manifest([P("alpha", 1, "0", "0x41000000", extra="messaging = <&alpha>;"),
                     P("beta", 2, "1", "0x41400000")])
    r = compile_text(tmp_path, text)
    assert [l.split(": ")[1] for l in errors(r.stderr)] == ["error[MSG-TARGET]"]


def test_properties_are_the_declaration_not_the_permissions(tmp_path):
    # alpha declares more than it is granted (it may message nobody and
    # nobody notifies it), beta less (it may message alpha but declares
    # only the indirect way), gamma declares without any permission at all
    text = manifest([P("alpha", 1, "0", "0x41000000", extra=ALL_SIX),
                     P("beta", 2, "1", "0x41400000",
                       extra='messaging-method = "indirect"; messaging = <&alpha>;'),
                     P("gamma", 3, "2", "0x41800000",
                       extra='messaging-method = "direct-req2-recv";')])
    r = compile_text(tmp_path, text)
    assert r.returncode == 0, r.stderr
    assert properties(tmp_path) == {"alpha": 0x60F, "beta": 0x4, "gamma": 0x200}


def test_a_malformed_declaration_is_a_type_error_not_a_missing_one(tmp_path):
    text = manifest([P("alpha", 1, "0", "0x41000000",
                       extra="messaging-method = <1>; messaging = <&beta>;"),
                     P("beta", 2, "1", "0x41400000",
                       extra='messaging-method = "direct-req-recv";')])
    r = compile_text(tmp_path, text)
    assert r.returncode == 1
    assert [l.split(": ")[1] for l in errors(r.stderr)] == [
        "error[SCHEMA-TYPE]", "error[MSG-METHOD]"], r.stderr


def test_a_target_listed_twice_is_named_once(tmp_path):
    text = manifest([P("alpha", 1, "0", "0x41000000", extra="messaging = <&beta &beta>;"),
                     P("beta", 2, "1", "0x41400000",
                       extra='messaging-method = "indirect";')])
    r = compile_text(tmp_path, text)
    missing = [l for l in errors(r.stderr) if "error[MSG-METHOD-MISSING]" in l]
    assert len(missing) == 1, r.stderr
    assert "it may send messages to \"beta\" ('messaging'); add" in missing[0]
    assert "error[MSG-TARGET]" in r.stderr
