"""The worked examples of RFC 7541 appendix C, as data: each group is decoded in order by one decoder (the
dynamic table carries over), with the decoder's table size (256 for the responses) and, after each block,
the fields and the dynamic table (name, value, entry size), newest first."""

_REQUEST_1 = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")]
_REQUEST_2 = _REQUEST_1 + [("cache-control", "no-cache")]
_REQUEST_3 = [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"),
              ("custom-key", "custom-value")]
_TABLE_1 = [(":authority", "www.example.com", 57)]
_TABLE_2 = [("cache-control", "no-cache", 53)] + _TABLE_1
_TABLE_3 = [("custom-key", "custom-value", 54)] + _TABLE_2

_DATE_1 = "Mon, 21 Oct 2013 20:13:21 GMT"
_DATE_2 = "Mon, 21 Oct 2013 20:13:22 GMT"
_COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
_RESPONSE_1 = [(":status", "302"), ("cache-control", "private"), ("date", _DATE_1),
               ("location", "https://www.example.com")]
_RESPONSE_2 = [(":status", "307")] + _RESPONSE_1[1:]
_RESPONSE_3 = [(":status", "200"), ("cache-control", "private"), ("date", _DATE_2),
               ("location", "https://www.example.com"), ("content-encoding", "gzip"), ("set-cookie", _COOKIE)]
_RTABLE_1 = [("location", "https://www.example.com", 63), ("date", _DATE_1, 65), ("cache-control", "private", 52),
             (":status", "302", 42)]
_RTABLE_2 = [(":status", "307", 42)] + _RTABLE_1[:3]
_RTABLE_3 = [("set-cookie", _COOKIE, 98), ("content-encoding", "gzip", 52), ("date", _DATE_2, 65)]

# (section, table size, [(hex block, fields, table after), ...])
GROUPS = [
    ("C.2.1", 4096, [("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
                      [("custom-key", "custom-header")], [("custom-key", "custom-header", 55)])]),
    ("C.2.2", 4096, [("040c 2f73 616d 706c 652f 7061 7468", [(":path", "/sample/path")], [])]),
    ("C.2.3", 4096, [("1008 7061 7373 776f 7264 0673 6563 7265 74", [("password", "secret")], [])]),
    ("C.2.4", 4096, [("82", [(":method", "GET")], [])]),
    ("C.3", 4096, [
        ("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", _REQUEST_1, _TABLE_1),
        ("8286 84be 5808 6e6f 2d63 6163 6865", _REQUEST_2, _TABLE_2),
        ("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", _REQUEST_3, _TABLE_3),
    ]),
    ("C.4", 4096, [
        ("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", _REQUEST_1, _TABLE_1),
        ("8286 84be 5886 a8eb 1064 9cbf", _REQUEST_2, _TABLE_2),
        ("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", _REQUEST_3, _TABLE_3),
    ]),
    ("C.5", 256, [
        ("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32"
         " 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", _RESPONSE_1, _RTABLE_1),
        ("4803 3330 37c1 c0bf", _RESPONSE_2, _RTABLE_2),
        ("88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970"
         " 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61"
         " 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31", _RESPONSE_3, _RTABLE_3),
    ]),
    ("C.6", 256, [
        ("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad"
         " 1718 63c7 8f0b 97c8 e9ae 82ae 43d3", _RESPONSE_1, _RTABLE_1),
        ("4883 640e ffc1 c0bf", _RESPONSE_2, _RTABLE_2),
        ("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2"
         " e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
         _RESPONSE_3, _RTABLE_3),
    ]),
]

# RFC 7541 C.4.1-C.4.3 and C.6: the Huffman codes of single strings, as the examples show them.
HUFFMAN_STRINGS = [
    ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"),
    ("no-cache", "a8eb 1064 9cbf"),
    ("custom-key", "25a8 49e9 5ba9 7d7f"),
    ("custom-value", "25a8 49e9 5bb8 e8b4 bf"),
    ("302", "6402"),
    ("private", "aec3 771a 4b"),
    (_DATE_1, "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"),
    ("https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"),
    ("307", "640e ff"),
    ("gzip", "9bd9 ab"),
    (_COOKIE, "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5"
              " b106 3d50 07"),
]
