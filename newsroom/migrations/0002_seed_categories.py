from django.db import migrations

# The essential topics of grassroots information work.
CATEGORIES = [
    ("chinh-sach-phap-luat", "Chủ trương, chính sách, pháp luật"),
    ("kinh-te-xa-hoi-dia-phuong", "Chương trình kinh tế – xã hội địa phương"),
    ("chinh-tri-kinh-te-van-hoa-khoa-hoc", "Chính trị, kinh tế, văn hóa, khoa học"),
    ("an-ninh-quoc-phong", "An ninh, quốc phòng"),
    ("thien-tai-hoa-hoan-dich-benh", "Thiên tai, hỏa hoạn, dịch bệnh"),
    ("guong-nguoi-tot-viec-tot", "Gương người tốt, việc tốt"),
    ("phong-chong-te-nan-xa-hoi", "Phòng, chống tệ nạn xã hội"),
    ("san-pham-dia-phuong", "Sản phẩm địa phương"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("newsroom.Category")
    for order, (slug, name) in enumerate(CATEGORIES):
        Category.objects.get_or_create(slug=slug, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("newsroom", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
