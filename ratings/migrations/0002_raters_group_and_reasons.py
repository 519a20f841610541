from django.contrib.auth.management import create_permissions
from django.db import migrations

REASONS = [
    ("out-of-character", "Out of character"),
    ("contradicts-persona", "Contradicts the persona"),
    ("repetitive", "Repetitive"),
    ("too-long", "Too long"),
    ("too-short", "Too short"),
    ("unsafe", "Unsafe"),
    ("memory-error", "Memory error"),
    ("factual-error", "Factual error"),
]


def forwards(apps, schema_editor):
    # Permissions are normally made after all migrations; the group needs its permission now.
    # (A migration's app config is a stub without models_module, which create_permissions checks.)
    config = apps.get_app_config("ratings")
    config.models_module = getattr(config, "models_module", None) or True
    create_permissions(config, apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    ReasonTag = apps.get_model("ratings", "ReasonTag")
    permission = Permission.objects.get(codename="rate_replies", content_type__app_label="ratings")
    group, _ = Group.objects.get_or_create(name="Raters")
    group.permissions.add(permission)
    for position, (slug, label) in enumerate(REASONS, start=1):
        ReasonTag.objects.get_or_create(slug=slug, defaults={"label": label, "position": position})


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Raters").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ratings", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
