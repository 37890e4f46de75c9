"""Load demo data: units, accounts, a loudspeaker, published items and a daily loudspeaker
programme. Idempotent."""

import json
import subprocess
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files import File
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from broadcast.models import Cluster, Device, Programme, Slot
from broadcast.services import device_token_issue, programme_create
from cms.demo_pictures import demo_picture
from media.ffmpeg import run_ffmpeg
from media.services import asset_create
from newsroom.demo import (
    DEMO_ACCOUNTS,
    DEMO_DEVICE_TOKEN,
    DEMO_PASSWORD,
    LEGACY_PROVINCE,
)
from newsroom.models import AdministrativeUnit, Category, NewsItem
from newsroom.services import item_create, item_review, item_submit, membership_grant
from newsroom.units import units_load

DEMO_ITEMS = [
    {
        "headline": "Đồng Xoài triển khai tiêm chủng mở rộng cho trẻ em",
        "summary": "Trạm y tế phường Tân Đồng tổ chức tiêm chủng mở rộng đợt tháng 11.",
        "body": "<p>Các gia đình có trẻ dưới 5 tuổi đưa con đến trạm y tế để được tiêm chủng "
        "đầy đủ, đúng lịch.</p>",
        "category": "thien-tai-hoa-hoan-dich-benh",
        "kind": NewsItem.Kind.AUDIO,
        "transcript": "Thông báo về đợt tiêm chủng mở rộng tại phường Tân Đồng.",
    },
    {
        "headline": "Phường Tân Đồng ra quân làm sạch môi trường",
        "summary": "Hơn 300 đoàn viên, hội viên tham gia ngày chủ nhật xanh.",
        "body": "<p>Phong trào ngày chủ nhật xanh được người dân hưởng ứng nhiệt tình.</p>",
        "category": "kinh-te-xa-hoi-dia-phuong",
        "kind": NewsItem.Kind.ARTICLE,
        "picture": ("ra-quan", "Đoàn viên ra quân sáng chủ nhật", "Ảnh: Nguyễn Văn Tâm"),
    },
    {
        "headline": "Khánh thành cầu bê tông nối hai khu phố ven kênh",
        "summary": "Cây cầu dài 24 m giúp hơn 400 hộ dân đi lại thuận tiện mùa mưa.",
        "body": "<p>Công trình do Nhân dân đóng góp và ngân sách phường hỗ trợ, hoàn thành "
        "trước mùa mưa.</p>",
        "category": "kinh-te-xa-hoi-dia-phuong",
        "kind": NewsItem.Kind.ARTICLE,
        "picture": ("cau", "Cầu mới nối khu phố 1 và khu phố 3", "Ảnh: Trần Thị Hoa"),
    },
    {
        "headline": "Nông dân Tân Đồng thu hoạch lúa mùa đạt năng suất cao",
        "summary": "Năng suất bình quân đạt 6,2 tấn/ha, tăng 0,4 tấn so với vụ trước.",
        "body": "<p>Nhờ áp dụng giống mới và lịch thời vụ hợp lý, bà con phấn khởi bước vào "
        "vụ thu hoạch.</p>",
        "category": "kinh-te-xa-hoi-dia-phuong",
        "kind": NewsItem.Kind.ARTICLE,
        "picture": ("lua", "Cánh đồng lúa chín ở khu phố 4", "Ảnh: Lê Văn Phúc"),
    },
    {
        "headline": "Mùa điều bội thu, giá thu mua ổn định",
        "summary": "Nhiều hộ trồng điều tại Tân Đồng có lãi nhờ giá thu mua giữ ở mức khá.",
        "body": "<p>Hợp tác xã liên kết với doanh nghiệp bao tiêu sản phẩm, giúp bà con yên "
        "tâm sản xuất.</p><p>Bộ ảnh dưới đây ghi lại một ngày thu hoạch.</p>",
        "category": "kinh-te-xa-hoi-dia-phuong",
        "kind": NewsItem.Kind.ARTICLE,
        "picture": ("dieu", "Vườn điều của gia đình ông Ba", "Ảnh: Phạm Minh Đức"),
        "gallery": [
            ("dieu-say", "Hạt điều được phơi khô trước khi bán", "Ảnh: Phạm Minh Đức"),
            ("dieu-ban", "Thương lái đến tận vườn thu mua", "Ảnh: Phạm Minh Đức"),
        ],
    },
]

DEMO_PROGRAMME = "Bản tin sáng và chiều — Tân Đồng"

# The publisher's identity a provincial portal shows (Decree 42/2022/NĐ-CP), demo values.
DEMO_IDENTITY = {
    "province_name": "Tỉnh Bình Phước",
    "portal_name": "Cổng thông tin điện tử tỉnh Bình Phước",
    "governing_agency": "Ủy ban nhân dân tỉnh Bình Phước",
    "person_responsible": "Chánh Văn phòng Ủy ban nhân dân tỉnh (dữ liệu minh họa)",
    "address": "Số 679 Quốc lộ 14, phường Tân Phú, thành phố Đồng Xoài, tỉnh Bình Phước",
    "phone": "0271 3879 000",
    "email": "congthongtin@binhphuoc.example.invalid",
    "licence": "Giấy phép số 00/GP-TTĐT do Sở Thông tin và Truyền thông cấp (dữ liệu minh họa)",
}
DEMO_EMBLEM_TITLE = "Biểu trưng tỉnh Bình Phước (minh họa)"


def _emblem_png() -> bytes:
    """A generated emblem: a red disc, a gold ring and a five-pointed star (not the real one)."""
    import io
    import math

    from PIL import Image, ImageDraw

    size = 512
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        (8, 8, size - 8, size - 8), fill=(218, 37, 29, 255), outline=(255, 205, 0, 255), width=22
    )
    centre, outer, inner = size / 2, size * 0.3, size * 0.12
    points = []
    for n in range(10):
        radius = outer if n % 2 == 0 else inner
        angle = -math.pi / 2 + n * math.pi / 5
        points.append((centre + radius * math.cos(angle), centre + radius * math.sin(angle)))
    draw.polygon(points, fill=(255, 205, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def demo_identity() -> None:
    """Fill the default site's identity for Bình Phước (idempotent: fills only empty fields)."""
    import io

    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model
    from wagtail.models import Site

    from core.identity import SiteIdentity

    site = Site.objects.get(is_default_site=True)
    Image = get_image_model()
    emblem = Image.objects.filter(title=DEMO_EMBLEM_TITLE).first()
    if emblem is None:
        emblem = Image.objects.create(
            title=DEMO_EMBLEM_TITLE,
            description="Biểu trưng tỉnh Bình Phước",
            file=ImageFile(io.BytesIO(_emblem_png()), name="bieu-trung-binh-phuoc.png"),
        )
    identity = SiteIdentity.for_site(site)
    changed = False
    for name, value in DEMO_IDENTITY.items():
        if not getattr(identity, name):
            setattr(identity, name, value)
            changed = True
    if identity.emblem_id is None:
        identity.emblem = emblem
        changed = True
    if changed:
        identity.save()


def _demo_audio(text: str, target: Path) -> None:
    """A spoken bulletin with espeak-ng where installed, otherwise a tone."""
    try:
        subprocess.run(
            ["espeak-ng", "-v", "vi", "-s", "150", "-w", str(target), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        run_ffmpeg(
            ["-f", "lavfi", "-i", "sine=frequency=440:duration=8", "-ac", "2", str(target)],
            timeout=60,
        )


class Command(BaseCommand):
    help = "Load the demo province, accounts, a loudspeaker device and items (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-national", action="store_true", help="do not import the 3,355 official units"
        )

    def handle(self, *args, **options):
        # The demo's own approvals notify the demo approvers: those emails are kept in
        # memory and counted, never printed (the console backend would dump raw MIME).
        saved = getattr(mail, "outbox", None)
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            try:
                created = self._load(**options)
                emails = len(mail.outbox)
            finally:
                if saved is None:
                    del mail.outbox
                else:
                    mail.outbox = saved
        self._summary(created, emails)

    def _load(self, *, skip_national=False, **options) -> dict:
        before = {
            "items": NewsItem.objects.count(),
            "programmes": Programme.objects.count(),
            "users": get_user_model().objects.count(),
        }
        if not skip_national:
            call_command("import_units", no_progress=True, stdout=self.stdout)
        units_load([LEGACY_PROVINCE])
        User = get_user_model()
        with transaction.atomic():
            admin, created = User.objects.get_or_create(
                username="admin",
                defaults={
                    "is_superuser": True,
                    "is_staff": True,
                    "first_name": "Quản trị",
                    "email": "admin@example.invalid",
                },
            )
            if created:
                admin.set_password(DEMO_PASSWORD)
                admin.save()
            users = {}
            for username, full_name, role, code in DEMO_ACCOUNTS:
                last, _, first = full_name.rpartition(" ")
                user, created = User.objects.get_or_create(
                    username=username, defaults={"first_name": first, "last_name": last}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                membership_grant(
                    user=user, unit=AdministrativeUnit.objects.get(code=code), role=role
                )
                users[username] = user

            commune = AdministrativeUnit.objects.get(code="25198")
            cluster, _ = Cluster.objects.get_or_create(
                name="Cụm loa khu phố 1 — Tân Đồng", commune=commune
            )
            device, created = Device.objects.get_or_create(
                serial="DEMO-TD-0001", defaults={"cluster": cluster, "vendor": "Demo"}
            )
            if created or not device.token_hash:
                device_token_issue(device=device, token=DEMO_DEVICE_TOKEN)

        for spec in DEMO_ITEMS:
            if NewsItem.objects.filter(headline=spec["headline"]).exists():
                continue
            self._publish_demo_item(spec, users, commune)

        self._demo_programme(users["laplich"], commune)
        demo_identity()
        return {
            "items": NewsItem.objects.count() - before["items"],
            "programmes": Programme.objects.count() - before["programmes"],
            "users": get_user_model().objects.count() - before["users"],
            "device": device,
        }

    def _summary(self, created: dict, emails: int) -> None:
        device = created["device"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {created['users']} new accounts, {created['items']} new "
                f"published items, {created['programmes']} new loudspeaker programmes, "
                f"{emails} demo notification emails not sent."
            )
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin        — superuser")
        for username, _full_name, role, code in DEMO_ACCOUNTS:
            unit = AdministrativeUnit.objects.get(code=code)
            self.stdout.write(f"  {username:<12} — {role} at {unit.name} ({code})")
        self.stdout.write(
            f"Demo loudspeaker: GET /api/v1/devices/{device.pk}/timeline "
            f"with 'Authorization: Bearer {DEMO_DEVICE_TOKEN}'"
        )

    @transaction.atomic
    def _demo_programme(self, scheduler, commune):
        """The commune's daily bulletin at 06:00 and 17:00, playing the demo audio item, made
        by the demo scheduler through the same service as the admin (so the device's timeline
        and the admin's schedule views have something to show)."""
        if Programme.objects.filter(name=DEMO_PROGRAMME, unit=commune).exists():
            return
        item = NewsItem.objects.filter(
            headline=DEMO_ITEMS[0]["headline"], live=True, withdrawn_at__isnull=True
        ).first()
        if item is None:
            return
        morning = timezone.localtime().replace(hour=6, minute=0, second=0, microsecond=0)
        programme_create(
            user=scheduler,
            name=DEMO_PROGRAMME,
            targets=[{"unit": commune}],
            slots=[
                {
                    "starts_at": morning,
                    "rrule": "FREQ=DAILY;BYHOUR=6,17;BYMINUTE=0",
                    "content": Slot.Content.PLAYLIST,
                    "items": [item.pk],
                }
            ],
        )

    @transaction.atomic
    def _publish_demo_item(self, spec, users, commune):
        reporter = users["phongvien"]
        fields = {
            "summary": spec["summary"],
            "body": spec["body"],
            "kind": spec["kind"],
            "byline": reporter.get_full_name(),
            "category": Category.objects.filter(slug=spec["category"]).first(),
            "transcript": spec.get("transcript", ""),
        }
        if spec.get("picture"):
            key, caption, credit = spec["picture"]
            fields.update(image=demo_picture(key), image_caption=caption, image_credit=credit)
        if spec.get("gallery"):
            fields["gallery"] = json.dumps(
                [
                    {
                        "type": "picture",
                        "value": {"image": demo_picture(key).pk, "caption": c, "credit": cr},
                    }
                    for key, c, cr in spec["gallery"]
                ]
            )
        if spec["kind"] == NewsItem.Kind.AUDIO:
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "bulletin.wav"
                _demo_audio(spec.get("transcript") or spec["headline"], wav)
                with open(wav, "rb") as fh:
                    upload = File(fh, name="ban-tin.wav")
                    upload.size = wav.stat().st_size
                    fields["audio"] = asset_create(upload=upload, kind="audio", user=reporter)
        item = item_create(user=reporter, unit=commune, headline=spec["headline"], **fields)
        item_submit(user=reporter, item=item)
        for approver in ("duyet_xa", "duyet_huyen", "duyet_tinh"):
            item = item_review(user=users[approver], item=item, action="approve")
