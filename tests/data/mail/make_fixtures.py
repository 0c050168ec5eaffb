#!/usr/bin/env python3
"""Writes the .eml fixtures of the mail parser tests (run from this directory)."""
import base64, quopri
from email.header import Header

def hdr(s, cs):
    return Header(s, cs).encode()

def write(name, text):
    with open(name, "wb") as f:
        f.write(text if isinstance(text, bytes) else text.encode("ascii"))

# GBK body (8bit), GBK encoded-word subject and From name.
body = "鞍山市应急管理局：\r\n鞍山市铁东区某安全培训学校开设“包过班”，交钱就能拿证，不用上课。\r\n请调查。\r\n".encode("gbk")
write("gbk.eml",
    ("From: %s <wang@example.net>\r\n" % hdr("王某", "gbk") +
     "To: jubao@yjj.example.gov.cn\r\n"
     "Subject: %s\r\n" % hdr("举报鞍山市某培训学校包过班", "gbk") +
     "Date: Mon, 6 May 2024 09:12:00 +0800\r\n"
     "Message-ID: <gbk-001@mail.example.net>\r\n"
     "MIME-Version: 1.0\r\n"
     "Content-Type: text/plain; charset=GBK\r\n"
     "Content-Transfer-Encoding: 8bit\r\n\r\n").encode("ascii") + body)

# Big5 (traditional), base64.
body = "台中某訓練中心考試作弊，監考人員收錢放水，請查處。\r\n".encode("big5")
write("big5.eml",
    "From: chen@example.com.tw\r\n"
    "Subject: %s\r\n" % hdr("檢舉考試作弊", "big5") +
    "Date: Tue, 7 May 2024 10:00:00 +0800\r\n"
    "Message-ID: <big5-001@example.com.tw>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=\"big5\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" +
    base64.encodebytes(body).decode("ascii").replace("\n", "\r\n"))

# GB18030 with a character outside GBK (𠀀 U+20000), base64.
body = "郑州某公司焊工证是买的，工人没有培训就上岗。𠀀\r\n".encode("gb18030")
write("gb18030.eml",
    "From: =?GB18030?B?%s?= <zhao@example.cn>\r\n" % base64.b64encode("赵某".encode("gb18030")).decode() +
    "Subject: =?gb18030?B?%s?=\r\n" % base64.b64encode("焊工证造假".encode("gb18030")).decode() +
    "Date: Wed, 8 May 2024 11:00:00 +0800\r\n"
    "Message-ID: <gb18030-001@example.cn>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=gb18030\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" +
    base64.encodebytes(body).decode("ascii").replace("\n", "\r\n"))

# GB2312, quoted-printable, Q-encoded subject.
body = "某建筑工地电工无证上岗，项目部知情不管。\r\n".encode("gb2312")
write("gb2312-qp.eml",
    "From: li@example.cn\r\n"
    "Subject: =?gb2312?Q?%s?=\r\n" % "".join("=%02X" % b for b in "电工无证上岗".encode("gb2312")) +
    "Date: Thu, 9 May 2024 12:00:00 +0800\r\n"
    "Message-ID: <gb2312-001@example.cn>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=gb2312\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
    quopri.encodestring(body).decode("ascii").replace("\n", "\r\n"))

# UTF-8 quoted-printable in multipart/alternative.
plain = "某考点安全员C证考试有人代考，考生本人没有到场。\r\n".encode("utf-8")
html = "<p>某考点安全员C证考试有人<b>代考</b>，考生本人没有到场。</p>".encode("utf-8")
write("utf8-qp.eml",
    "From: =?UTF-8?B?%s?= <sun@example.com>\r\n" % base64.b64encode("孙某".encode()).decode() +
    "Subject: =?UTF-8?Q?%s?=\r\n" % "".join("=%02X" % b for b in "代考举报".encode()) +
    "Date: Fri, 10 May 2024 13:00:00 +0800\r\n"
    "Message-ID: <utf8-qp-001@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n"
    "--ALT\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
    quopri.encodestring(plain).decode("ascii").replace("\n", "\r\n") +
    "\r\n--ALT\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
    quopri.encodestring(html).decode("ascii").replace("\n", "\r\n") +
    "\r\n--ALT--\r\n")

# HTML only (as QQ mail and 163 send it), GBK, base64.
html = ("<html><head><style>p{color:red}</style></head><body>"
        "<div>沈阳市应急管理局：</div><div>沈阳市和平区某特种作业考点监考形同虚设，</div>"
        "<div>考生用手机查答案，监考员&nbsp;不管。</div><div><br></div><div>知情人</div></body></html>").encode("gbk")
write("html-only.eml",
    "From: =?gbk?B?%s?= <qq123456@qq.example>\r\n" % base64.b64encode("知情人".encode("gbk")).decode() +
    "Subject: =?gbk?B?%s?=\r\n" % base64.b64encode("考点监考问题".encode("gbk")).decode() +
    "Date: Sat, 11 May 2024 14:00:00 +0800\r\n"
    "Message-ID: <tencent_HTML001@qq.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=\"gbk\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" +
    base64.encodebytes(html).decode("ascii").replace("\n", "\r\n"))

# A forward of a citizen's report by an office clerk, with no text of the clerk's own.
body = ("\r\n\r\n------------------ 原始邮件 ------------------\r\n"
        "发件人: \"群众\"<citizen@example.org>;\r\n"
        "发送时间: 2024年5月5日(星期日) 晚上8:30\r\n"
        "收件人: \"办公室\"<office@example.gov.cn>;\r\n"
        "主题: 某驾校安全员证培训不上课\r\n\r\n"
        "大连市甘井子区某驾校开展安全员证培训，从不上课，交钱直接发证。\r\n").encode("utf-8")
write("forward.eml",
    "From: =?UTF-8?B?%s?= <office@example.gov.cn>\r\n" % base64.b64encode("办公室".encode()).decode() +
    "Subject: =?UTF-8?B?%s?=\r\n" % base64.b64encode("转发：某驾校安全员证培训不上课".encode()).decode() +
    "Date: Mon, 13 May 2024 08:00:00 +0800\r\n"
    "Message-ID: <fwd-001@example.gov.cn>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" +
    base64.encodebytes(body).decode("ascii").replace("\n", "\r\n"))

# A reply with own text on top and the earlier mail quoted.
body = ("补充情况：该机构本周又开了一期包过班，地点在二楼。\r\n\r\n"
        "在 2024年5月6日 09:12，王某 <wang@example.net> 写道：\r\n"
        "> 上次反映的培训机构存在代签考勤问题。\r\n> 请调查。\r\n").encode("utf-8")
write("reply.eml",
    "From: wang@example.net\r\n"
    "Subject: =?UTF-8?B?%s?=\r\n" % base64.b64encode("回复：关于某安全培训机构的举报".encode()).decode() +
    "Date: Tue, 14 May 2024 08:00:00 +0800\r\n"
    "Message-ID: <reply-001@example.net>\r\n"
    "In-Reply-To: <gbk-001@mail.example.net>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" +
    base64.encodebytes(body).decode("ascii").replace("\n", "\r\n"))

# Attachments: JPEG and PDF with RFC 2047 / RFC 2231 names, an .exe refused.
jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
exe = b"MZ\x90\x00" + b"\x00" * 64
def b64(data):
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")
text = "附件是现场照片和培训档案，请查收。鞍山市立山区某培训中心伪造培训记录。\r\n".encode("gbk")
write("attachments.eml",
    "From: zhou@example.net\r\n"
    "Subject: =?GBK?B?%s?=\r\n" % base64.b64encode("培训档案造假（附证据）".encode("gbk")).decode() +
    "Date: Wed, 15 May 2024 16:20:33 +0800\r\n"
    "Message-ID: <att-001@example.net>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"MIX\"\r\n\r\n"
    "--MIX\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(text) +
    "--MIX\r\nContent-Type: image/jpeg; name=\"=?UTF-8?B?%s?=\"\r\n" % base64.b64encode("现场照片.jpg".encode()).decode() +
    "Content-Disposition: attachment; filename=\"=?UTF-8?B?%s?=\"\r\n" % base64.b64encode("现场照片.jpg".encode()).decode() +
    "Content-Transfer-Encoding: base64\r\n\r\n" + b64(jpeg) +
    "--MIX\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename*=gbk''%s\r\n" % "".join("%%%02X" % b for b in "培训档案.pdf".encode("gbk")) +
    "Content-Transfer-Encoding: base64\r\n\r\n" + b64(pdf) +
    "--MIX\r\nContent-Type: application/x-msdownload; name=\"setup.exe\"\r\n"
    "Content-Disposition: attachment; filename=\"setup.exe\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n" + b64(exe) +
    "--MIX--\r\n")

# Poison: no header a mail has, binary garbage.
write("malformed.eml", b"\x00\x01\x02garbage without any header\x00\r\n\xff\xfe\r\n")
