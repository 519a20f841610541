from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conversations', '0002_message_stop_requested'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='message',
            name='stop_requested',
        ),
        migrations.AddField(
            model_name='message',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
