"""The platforms whose sign-in this app offers, by method name."""

from learntrace.platforms.base import Platform
from learntrace.platforms.dingtalk import DingTalk
from learntrace.platforms.feishu import Feishu
from learntrace.platforms.wecom import WeCom

PLATFORMS: dict[str, Platform] = {platform.method: platform for platform in (DingTalk(), WeCom(), Feishu())}
