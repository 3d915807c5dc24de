"""The demo organisation, shaped like the two scenarios learntrace was built for:
a tech company with 50 middle managers and a hospital with 30 department heads.
Deterministic, so that every demo database looks the same."""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from learntrace.org.importing import ID_CHECK, ID_WEIGHTS
from learntrace.org.models import Department, Employee, Level, Role, RoleGrant
from learntrace.org.services import department_path

User = get_user_model()

DEMO_PASSWORD = "learntrace-demo"

TECH = [
    ("TECH-RD", "研发中心", [("TECH-RD-PLAT", "平台研发部"), ("TECH-RD-APP", "应用研发部"),
                          ("TECH-RD-QA", "质量保障部"), ("TECH-RD-DATA", "数据智能部")]),
    ("TECH-PM", "产品部", []),
    ("TECH-SALES", "销售部", [("TECH-SALES-N", "华北销售部"), ("TECH-SALES-E", "华东销售部"),
                           ("TECH-SALES-S", "华南销售部")]),
    ("TECH-MKT", "市场部", []),
    ("TECH-OPS", "运营部", []),
    ("TECH-CS", "客户成功部", []),
    ("TECH-HR", "人力资源部", []),
    ("TECH-FIN", "财务部", []),
]
HOSPITAL = [
    ("HOSP-ADMIN", "院办", []),
    ("HOSP-MED", "医务处", []),
    ("HOSP-NURSE", "护理部", []),
    ("HOSP-IM", "内科", [("HOSP-IM-CARD", "心内科"), ("HOSP-IM-RESP", "呼吸内科"), ("HOSP-IM-GI", "消化内科"),
                       ("HOSP-IM-NEPH", "肾内科"), ("HOSP-IM-ENDO", "内分泌科"), ("HOSP-IM-NEUR", "神经内科")]),
    ("HOSP-SURG", "外科", [("HOSP-SURG-GEN", "普外科"), ("HOSP-SURG-ORTH", "骨科"), ("HOSP-SURG-NEURO", "神经外科"),
                         ("HOSP-SURG-CT", "心胸外科"), ("HOSP-SURG-URO", "泌尿外科")]),
    ("HOSP-PED", "儿科", []), ("HOSP-OBGYN", "妇产科", []), ("HOSP-ER", "急诊科", []),
    ("HOSP-ICU", "重症医学科", []), ("HOSP-RAD", "放射科", []), ("HOSP-LAB", "检验科", []),
    ("HOSP-PHARM", "药剂科", []), ("HOSP-ANES", "麻醉科", []), ("HOSP-OPH", "眼科", []),
    ("HOSP-ENT", "耳鼻喉科", []), ("HOSP-DERM", "皮肤科", []), ("HOSP-REHAB", "康复医学科", []),
    ("HOSP-TCM", "中医科", []), ("HOSP-ONC", "肿瘤科", []), ("HOSP-INF", "感染科", []),
    ("HOSP-DENT", "口腔科", []),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文斌宇浩凯鹏飞晨阳子涵欣怡梓萱思远雨桐嘉怡俊杰晓东海燕丹丹倩颖琳婷雪梅慧敏立新卫东"

# The accounts listed in the README, one per role.
DEMO_ACCOUNTS = [
    ("hr", "T-HR-01", "training_admin", "陈静", "TECH-HR", "培训主管", Level.STAFF),
    ("auditor", "H-AUD-01", "auditor", "周审", "HOSP-ADMIN", "内审专员", Level.STAFF),
    ("head", "H-IM-00", "department_head", "王建国", "HOSP-IM", "内科主任", Level.DEPARTMENT_HEAD),
    ("manager", "T-RD-00", "learner", "李明", "TECH-RD-PLAT", "研发经理", Level.MANAGER),
]


def _national_id(rng: random.Random, birth: dt.date) -> str:
    body = f"{rng.choice(['110101', '310104', '440305', '330106', '510107'])}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))


@transaction.atomic
def load_organisation() -> list[tuple[str, str, str]]:
    """Create the demo organisation. Returns (username, role, name) of the demo accounts."""
    rng = random.Random(20240301)
    password = make_password(DEMO_PASSWORD)  # hashed once: hashing 300 times would take minutes

    def department(code, name, parent=None):
        dep = Department.objects.create(code=code, name=name, parent=parent)
        dep.path = department_path(parent, dep.pk)
        dep.save(update_fields=["path"])
        return dep

    group = department("GROUP", "learntrace 演示集团")
    tech = department("TECH", "星河科技有限公司", group)
    hospital = department("HOSP", "仁和医院", group)
    departments = {}
    for root, tree in ((tech, TECH), (hospital, HOSPITAL)):
        for code, name, children in tree:
            departments[code] = department(code, name, root)
            for child_code, child_name in children:
                departments[child_code] = department(child_code, child_name, departments[code])

    people = []
    counter = {"n": 0}

    def person(prefix, dep_code, position, level, tags="", name=None, number=None):
        counter["n"] += 1
        birth = dt.date(rng.randint(1965, 1998), rng.randint(1, 12), rng.randint(1, 28))
        number = number or f"{prefix}{counter['n']:04d}"
        employee = Employee(
            employee_no=number, name=name or _name(rng), department=departments[dep_code], position=position,
            level=level, tags=tags, email=f"{number.lower()}@demo.learntrace.example",
            mobile=f"139{rng.randint(10000000, 99999999)}", dingtalk_user_id=f"dt_{number.lower()}",
            wecom_user_id=f"wc_{number.lower()}", feishu_user_id=f"fs_{number.lower()}",
            hire_date=dt.date(rng.randint(2008, 2025), rng.randint(1, 12), rng.randint(1, 28)),
            national_id=_national_id(rng, birth),
        )
        people.append(employee)
        return employee

    # The accounts of the README first, with memorable usernames.
    demo_users = {}
    for username, number, role, name, dep_code, position, level in DEMO_ACCOUNTS:
        demo_users[username] = (person("", dep_code, position, level, name=name, number=number), role)

    # Tech company: 50 middle managers (one is the demo "manager") and their teams.
    tech_teams = [code for code, _n, children in TECH for code in ([code] + [c for c, _x in children])
                  if code not in {"TECH-RD", "TECH-SALES"}]
    for i in range(49):
        person("T", tech_teams[i % len(tech_teams)], "部门经理" if i % 3 else "项目经理", Level.MANAGER,
               tags=",中层管理," if i % 5 else ",中层管理,新任经理,")
    for i in range(110):
        person("T", tech_teams[i % len(tech_teams)], rng.choice(["工程师", "产品经理", "销售代表", "专员"]),
               Level.STAFF)
    for position in ("首席执行官", "首席技术官"):
        person("T", "TECH-HR" if position == "首席执行官" else "TECH-RD-PLAT", position, Level.EXECUTIVE)

    # Hospital: 30 department heads (科室主任; the demo "head" leads 内科) and clinical staff.
    clinical = [code for code, _n, children in HOSPITAL for code in ([code] + [c for c, _x in children])
                if code not in {"HOSP-IM", "HOSP-ADMIN", "HOSP-MED", "HOSP-NURSE", "HOSP-SURG"}]
    head_departments = ["HOSP-SURG", "HOSP-NURSE", "HOSP-MED"] + clinical
    heads = []
    for code in head_departments[:29]:
        heads.append((person("H", code, "科室主任", Level.DEPARTMENT_HEAD, tags=",科室主任,"), code))
    for i in range(95):
        person("H", clinical[i % len(clinical)], rng.choice(["主治医师", "住院医师", "主管护师", "护士", "技师"]),
               Level.STAFF, tags=",临床," if i % 2 else "")
    for position in ("院长", "副院长"):
        person("H", "HOSP-ADMIN", position, Level.EXECUTIVE)

    # Accounts: every demo employee can log in with their employee number and the demo password.
    users = User.objects.bulk_create([
        User(username=e.employee_no, email=e.email, password=password) for e in people
    ])
    by_name = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
    for employee in people:
        employee.user = by_name[employee.employee_no]
    Employee.objects.bulk_create(people)

    accounts = []
    for username, (employee, role) in demo_users.items():
        user = by_name[employee.employee_no]
        user.username = username
        user.save(update_fields=["username"])
        if role == "department_head":
            RoleGrant.objects.create(user=user, role=role, department=departments["HOSP-IM"])
        elif role != "learner":
            RoleGrant.objects.create(user=user, role=role)
        accounts.append((username, role, employee.name))
    for employee, code in heads:
        RoleGrant.objects.create(user=by_name[employee.employee_no], role=Role.DEPARTMENT_HEAD,
                                 department=departments[code])
    root = User.objects.create(username="root", is_staff=True, is_superuser=True, password=password)
    accounts.append((root.username, "superuser", ""))
    return accounts
