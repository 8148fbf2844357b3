"""An independent reader of newc archives, for tests."""


def parse(data: bytes) -> list[dict]:
    """An independent newc reader: every entry, trailer included."""
    entries, off = [], 0
    while True:
        assert data[off:off + 6] == b"070701"
        fields = [int(data[off + 6 + 8 * i:off + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name = data[off + 110:off + 110 + namesize - 1].decode()
        assert data[off + 110 + namesize - 1] == 0
        off += 110 + namesize
        off += -off % 4
        body = data[off:off + filesize]
        off += filesize
        off += -off % 4
        entries.append({"name": name, "ino": fields[0], "mode": fields[1], "uid": fields[2],
                        "gid": fields[3], "nlink": fields[4], "mtime": fields[5], "data": body,
                        "rdev": (fields[9], fields[10]), "check": fields[12]})
        if name == "TRAILER!!!":
            assert off == len(data)
            return entries
