"""The knowledge bases a fresh simulator starts with, and their documents.

Three Q&A (`chat` scene) knowledge bases an assistant can answer from, in English and Chinese,
and one `complement` (code completion) one that chat never retrieves from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    title: str
    content: str


@dataclass(frozen=True)
class SeedKnowledgeBase:
    id: str
    name: str
    description: str
    scene_type: str
    access_level: int
    documents: tuple[Document, ...]


SEED_KNOWLEDGE_BASES = (
    SeedKnowledgeBase(
        id="kb-employee-handbook",
        name="Employee Handbook",
        description="Leave, expenses and working hours for everyone in the company.",
        scene_type="chat",
        access_level=10,
        documents=(
            Document(
                "Annual leave policy",
                "Every full-time employee gets 20 days of paid annual leave per calendar year. "
                "Up to 5 unused leave days carry over to the next year. "
                "Request leave in the HR portal at least two weeks in advance.",
            ),
            Document(
                "Expense reimbursement",
                "Submit travel and meal expenses within 30 days with the original receipts. "
                "Meals are reimbursed up to 150 CNY per day on business trips. "
                "Your manager approves every expense claim before finance pays it.",
            ),
            Document(
                "请假制度",
                "员工每年享有带薪年假二十天。病假需要提供医院证明。"
                "请假须提前在人事系统中提交申请，并由直属主管审批。",
            ),
        ),
    ),
    SeedKnowledgeBase(
        id="kb-product-faq",
        name="Product FAQ",
        description="Answers for customers: prices, plans and the warranty.",
        scene_type="chat",
        access_level=10,
        documents=(
            Document(
                "Pricing plans",
                "The Basic plan costs 99 CNY per month and the Pro plan costs 299 CNY per month. "
                "Yearly billing gives a 20 percent discount on either plan.",
            ),
            Document(
                "Warranty",
                "Every device comes with a two-year warranty that covers hardware faults. "
                "Accidental damage is not covered by the warranty.",
            ),
            Document(
                "退货与保修",
                "产品自签收之日起七天内可无理由退货。保修期为两年，人为损坏不在保修范围内。",
            ),
        ),
    ),
    SeedKnowledgeBase(
        id="kb-engineering-wiki",
        name="Engineering Wiki",
        description="How the engineering team builds, reviews and deploys.",
        scene_type="chat",
        access_level=0,
        documents=(
            Document(
                "Deploying to production",
                "Deploy to production by merging into the main branch; the pipeline builds the "
                "image and rolls it out. Production deploys are frozen on Fridays after 3 pm. "
                "Run the smoke tests before and after every deploy.",
            ),
            Document(
                "On-call rotation",
                "The on-call engineer answers pages within 15 minutes. "
                "The rotation changes every Monday at 10 am.",
            ),
            Document(
                "代码评审规范",
                "每个合并请求至少需要一位同事评审通过。评审应在一个工作日内完成。",
            ),
        ),
    ),
    SeedKnowledgeBase(
        id="kb-code-snippets",
        name="Code Completion Snippets",
        description="House idioms the IDE plugin completes from.",
        scene_type="complement",
        access_level=10,
        documents=(
            Document(
                "HTTP client",
                "Create one httpx.AsyncClient per process with explicit timeouts and reuse it.",
            ),
        ),
    ),
)
