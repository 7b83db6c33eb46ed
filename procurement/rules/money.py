"""Money: amounts in capital Chinese numerals (大写金额) and splitting a total into instalments (DOMAIN §4, §7).

Amounts are ``Decimal`` yuan with at most two places; rounding is half-up at the fen.
"""

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
GROUP_UNITS = ("", "万", "亿", "万亿")


def to_fen(amount) -> Decimal:
    """Round half-up to the fen (once per computed amount)."""
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


def _four_digits(number: int) -> str:
    """0 < number < 10000, without leading zeros; one 零 for any run of inner zeros."""
    text, pending_zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10**position % 10
        if digit == 0:
            pending_zero = bool(text)
            continue
        if pending_zero:
            text += "零"
            pending_zero = False
        text += DIGITS[digit] + SMALL_UNITS[position]
    return text


def _integer(number: int) -> str:
    if number == 0:
        return "零"
    groups = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    if len(groups) > len(GROUP_UNITS):
        raise ValueError("amount too large")
    text, pending_zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            pending_zero = bool(text)
            continue
        if text and (pending_zero or group < 1000):
            text += "零"
        text += _four_digits(group) + GROUP_UNITS[index]
        pending_zero = False
    return text


def to_capital(amount: Decimal) -> str:
    """``Decimal("1350.05")`` → ``"人民币壹仟叁佰伍拾元零伍分"``, the way banks and contracts write it.

    Whole yuan end with 整 (also after 角); a zero 元位 before a 角, or a zero 角 before a 分, is
    written as one 零; ``壹拾`` is written in full (中国人民银行《支付结算办法》附件
    《正确填写票据和结算凭证的基本规定》, whose examples are in the tests).

    Raises:
        ValueError: a negative amount, more than two decimals, or not a number.
    """
    value = Decimal(amount)
    if not value.is_finite() or value < 0:
        raise ValueError("amount must be a non-negative number")
    if value != value.quantize(FEN):
        raise ValueError("amount has more than two decimals")
    fen_total = int(value * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    text = "人民币"
    if yuan or (not jiao and not fen):
        text += _integer(yuan) + "元"
    if jiao:
        if yuan and yuan % 10 == 0:
            text += "零"  # 元位 is zero before a 角: the standard's first form, ¥1,680.32 → …捌拾元零叁角贰分
        text += DIGITS[jiao] + "角"
    elif fen and yuan:
        text += "零"
    if fen:
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return text


def split_by_percent(total: Decimal, percents) -> list[Decimal]:
    """Instalment amounts for percentages that sum to exactly 100; the amounts sum to the total to the fen.

    Each amount is rounded half-up at the fen; the last instalment takes what rounding left over.

    Raises:
        ValueError: the percentages do not sum to 100, or one is not positive.
    """
    percents = [Decimal(p) for p in percents]
    if not percents or sum(percents) != 100:
        raise ValueError("the instalments must add up to exactly 100%")
    if any(p <= 0 for p in percents):
        raise ValueError("every instalment must be more than 0%")
    total = to_fen(total)
    amounts = [to_fen(total * p / 100) for p in percents[:-1]]
    amounts.append(total - sum(amounts, Decimal("0.00")))
    if amounts[-1] < 0:  # cannot happen with positive percentages, kept as a guard
        raise ValueError("rounding left a negative last instalment")
    return amounts
