// Word families that spam, phishing and worm lures lean on, in the languages Rampart's users
// write (English, Vietnamese, Chinese, Spanish, German). Each family is one feature, so the
// model learns "asks for a one-time code" rather than one particular sentence. Written from
// general knowledge of scam patterns, not taken from any training corpus.

export const LEXICON: Record<string, RegExp> = {
  secretAsk:
    /password|passcode|\bpw\b|\bpin\b|\botp\b|one[- ]time|(?:verification|security|login|access|sms|text|one-time|\d-digit|digit|otp|2fa|mfa) codes?|codes? (?:you|that|we|i) |2fa|mfa|credentials?|login details|mật khẩu|mã (?:xác (?:minh|nhận|thực)|otp|pin)|密码|密碼|验证码|驗證碼|口令|contraseña|código|passwort|kennwort|bestätigungscode/iu,
  account:
    /\baccounts?\b|mailbox|profile|wallet|\bcards?\b|\bbank|payroll|salary|tài khoản|thẻ|ngân hàng|lương|账户|帳戶|账号|帳號|银行|銀行|工资|薪资|cuenta|tarjeta|konto|karte/iu,
  threatToAccount:
    /suspend|locked|lock(?:ed)? out|disabled|deactivat|expire|terminated|blocked|unusual (?:activity|sign)|quota|bị (?:khóa|khoá|tạm|đình chỉ)|hết hạn|停用|冻结|凍結|锁定|鎖定|过期|過期|異常|异常|suspendid|bloquead|gesperrt|deaktiviert/iu,
  verifyAction:
    /verify|confirm|re-?authenticat|re-?activate|validate|update your|sign in|log ?in|click|xác minh|xác nhận|đăng nhập|cập nhật|验证|驗證|确认|確認|登录|登入|點擊|点击|verific|confirm[ae]|inicia sesión|bestätig|anmelden/iu,
  urgency:
    /urgent|immediately|right now|asap|within \d+ ?h|today only|last chance|hurry|quick(?:ly)?|before it'?s too late|ngay|gấp|khẩn|立即|马上|馬上|尽快|儘快|紧急|緊急|urgente|inmediato|sofort|dringend/iu,
  authority:
    /helpdesk|help desk|support team|administrator|\badmin\b|security team|service desk|ceo|director|bank|ngân hàng|nhân sự|quản trị|phòng it|客服|管理员|管理員|人事|银行|銀行|soporte|administrador|verwaltung/iu,
  prize:
    /\bwin\b|won|winner|prize|reward|gift ?card|bonus|jackpot|lucky|free|giveaway|claim|trúng|giải thưởng|quà|miễn phí|中奖|中獎|奖品|獎品|免费|免費|红包|紅包|ganad|premio|gratis|gewonnen|gewinn/iu,
  money:
    /earn|income|profit|invest|crypto|bitcoin|forex|trading|returns?\b|payout|loan|cash|make money|rich|\$\d|kiếm tiền|thu nhập|lợi nhuận|đầu tư|vay|赚钱|賺錢|投资|投資|收益|贷款|貸款|日赚|ganar dinero|inversión|préstamo|verdienen|kredit/iu,
  sales:
    /discount|% off|\bsale\b|cheap|order now|buy now|promo|deal|limited offer|shipping|giảm giá|khuyến mãi|mua ngay|优惠|優惠|折扣|特价|特價|促销|descuento|oferta|rabatt|angebot/iu,
  dating:
    /lonely|sexy|hot (?:girls?|singles)|dating|date me|hẹn hò|cô đơn|约会|約會|交友|寂寞|citas|soltera|single/iu,
  job: /work from home|part[- ]time|hiring|job offer|easy job|per day|việc làm|làm thêm|tuyển|兼职|兼職|招聘|日结|trabajo desde casa|heimarbeit/iu,
  lure: /check (?:this|it)|look(?: at)? (?:this|what)|see this|download|try (?:this|it)|lol|lmao|haha|wow|omg|is this you|you'?ll love|xem (?:cái|này|đi)|tải|coi|看看|下载|下載|这个|這個|mira esto|descarga|schau mal|guck mal/iu,
  stopWorry:
    /will never ask|never share|don'?t (?:click|open|share)|report it|is (?:a )?phishing|không bao giờ|đừng (?:bấm|click|mở)|不会|不會|千万别|千萬別|别点|別點|nunca|niemals/iu,
};

// "IT" and "HR" only as capitals: in lower case "it" is just a pronoun.
const AUTHORITY_ACRONYM = /\b(?:IT|HR)\b/;

export function lexiconHits(text: string): string[] {
  return Object.entries(LEXICON)
    .filter(([name, re]) => re.test(text) || (name === 'authority' && AUTHORITY_ACRONYM.test(text)))
    .map(([name]) => name);
}
