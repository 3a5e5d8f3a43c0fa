"""HJ 212-2017 (污染物在线监控（监测）系统数据传输标准): codec, gateway server, client.

``codec`` parses and builds packets; ``framing`` cuts a byte stream into packets;
``mapping`` turns uploads into readings of the site model's points; ``server`` is the
asyncio TCP gateway; ``client`` is a data logger's side; ``run`` starts the gateway alone
(``tansuan gateway hj212``).
"""
