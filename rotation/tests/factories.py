import factory

from rotation.models import Membership, Override, Shift, Team
from tests.factories import UserFactory


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    phone = factory.Sequence(lambda n: f"+33 6 12 34 {n % 100:02d} 00")


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    team = factory.LazyAttribute(lambda s: s.membership.team)
    membership = factory.SubFactory(MembershipFactory)


class OverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Override

    team = factory.LazyAttribute(lambda o: o.membership.team)
    membership = factory.SubFactory(MembershipFactory)
